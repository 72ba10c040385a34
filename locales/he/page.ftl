# The web chat page's own labels (buttons, placeholder, messages of the page itself),
# in the conversation's language. Ids: `chat-page-<name>`, listed in src/http/assets.rs.
chat-page-menu = תפריט
chat-page-cart = עגלה
chat-page-send = שליחה
chat-page-placeholder = כתבו הודעה…
chat-page-typing = מקליד…
chat-page-message = הודעה
chat-page-conversation = שיחה
chat-page-shortcuts = קיצורים
chat-page-connection = בעיית חיבור. נסו שוב.
chat-page-start = לא ניתן להפעיל את הצ׳אט. טענו את הדף מחדש.
chat-page-connecting = עדיין מתחבר. נסו שוב בעוד רגע.
chat-page-total = סה״כ
