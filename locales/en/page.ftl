# The web chat page's own labels (buttons, placeholder, messages of the page itself),
# in the conversation's language. Ids: `chat-page-<name>`, listed in src/http/assets.rs.
chat-page-menu = Menu
chat-page-cart = Cart
chat-page-send = Send
chat-page-placeholder = Type a message…
chat-page-typing = typing…
chat-page-message = Message
chat-page-conversation = Conversation
chat-page-shortcuts = Shortcuts
chat-page-connection = Connection problem. Please try again.
chat-page-start = Could not start the chat. Please reload.
chat-page-connecting = Still connecting. Please try again in a moment.
chat-page-total = Total
