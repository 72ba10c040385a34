# The web chat page's own labels (buttons, placeholder, messages of the page itself),
# in the conversation's language. Ids: `chat-page-<name>`, listed in src/http/assets.rs.
chat-page-menu = Menu
chat-page-cart = Koszyk
chat-page-send = Wyślij
chat-page-placeholder = Napisz wiadomość…
chat-page-typing = pisze…
chat-page-message = Wiadomość
chat-page-conversation = Rozmowa
chat-page-shortcuts = Skróty
chat-page-connection = Problem z połączeniem. Spróbuj ponownie.
chat-page-start = Nie udało się uruchomić czatu. Odśwież stronę.
chat-page-connecting = Wciąż łączę. Spróbuj za chwilę.
chat-page-total = Razem
