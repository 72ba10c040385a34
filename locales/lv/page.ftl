# The web chat page's own labels (buttons, placeholder, messages of the page itself),
# in the conversation's language. Ids: `chat-page-<name>`, listed in src/http/assets.rs.
chat-page-menu = Izvēlne
chat-page-cart = Grozs
chat-page-send = Sūtīt
chat-page-placeholder = Rakstiet ziņu…
chat-page-typing = raksta…
chat-page-message = Ziņa
chat-page-conversation = Saruna
chat-page-shortcuts = Īsceļi
chat-page-connection = Savienojuma problēma. Lūdzu, mēģiniet vēlreiz.
chat-page-start = Neizdevās atvērt tērzēšanu. Lūdzu, pārlādējiet lapu.
chat-page-connecting = Vēl savienojas. Lūdzu, mēģiniet pēc brīža.
chat-page-total = Kopā
