# The web chat page's own labels (buttons, placeholder, messages of the page itself),
# in the conversation's language. Ids: `chat-page-<name>`, listed in src/http/assets.rs.
chat-page-menu = Meniu
chat-page-cart = Coș
chat-page-send = Trimite
chat-page-placeholder = Scrieți un mesaj…
chat-page-typing = scrie…
chat-page-message = Mesaj
chat-page-conversation = Conversație
chat-page-shortcuts = Scurtături
chat-page-connection = Problemă de conexiune. Încercați din nou.
chat-page-start = Chatul nu a putut porni. Reîncărcați pagina.
chat-page-connecting = Încă se conectează. Încercați din nou într-o clipă.
chat-page-total = Total
