# souk — customer-facing text, English. Every message id here is used by the conversation
# core (flows::TextKey); the locale test fails on a missing or unused id.
# Arguments: $shop, $name, $product, $variant, $category, $order and $contact are text;
# $price and $total are already formatted money; $items, $page, $pages, $count, $quantity,
# $max and $available are numbers.

welcome = Hi! Welcome to { $shop }. I can show you our products, keep your cart and take your order right here. What would you like to do?
welcome-back = Welcome back to { $shop }! { $items ->
    [0] What can I do for you?
    [one] You have 1 item in your cart.
   *[other] You have { $items } items in your cart.
}
menu = What would you like to do?
help = You can tap the buttons or just write to me: a product name (for example "mug"), "cart", "checkout", "menu", "language", or "human" to talk to a person. Numbers pick from the list I showed last.
human-requested = I've asked a colleague to join this conversation. Someone usually answers here within { $minutes } minutes. Meanwhile, I'm still here if you need me.
handoff-after-misses = Sorry, I'm still not getting it. I've asked a colleague to join; someone usually answers here within { $minutes } minutes.
knowledge-answer = { $text }
    (Source: { $source })
handoff-unanswered-question = I don't know the answer to that, I'm afraid. I've asked a colleague to join; someone usually answers here within { $minutes } minutes.
handoff-after-payment-failures = The payment did not go through again. I've asked a colleague to help; someone usually answers here within { $minutes } minutes.
handoff-offline = Our team is not available right now. You can go on with me, or leave a message and we'll answer as soon as we're back.
handoff-still-waiting = Your message is kept for our team. Someone usually answers within { $minutes } minutes.
handoff-message-kept = Thank you, your message is kept for our team.
handoff-nobody = Sorry, nobody from our team is free right now. You can go on with me, or leave a message and we'll answer as soon as we can.
handoff-leave-message = Please write your message here; our team will answer as soon as possible.
operator-joined = { $operator } from our team is here to help you.
operator-message = { $text }
bot-resumed = Thanks for your patience! I'm here again to help you.
choice-continue-with-bot = Go on with the bot
choice-leave-message = Leave a message
cancelled = OK, cancelled. Your cart is kept.
language-choose = Choose your language:
language-set = From now on I'll write in { $language }.
not-understood = Sorry, I didn't get that. You can tap one of these, or write "help".
stale-choice = That button belongs to an earlier step. Here is what you can do now:
unsupported-message = I can only read text and buttons for now. Please write your question.
thanks-reply = You're welcome! Anything else?
categories = Here are our categories:
category-products = { $category } ({ $count ->
    [one] 1 product
   *[other] { $count } products
}){ $pages ->
    [1] {""}
   *[other] {" "}· page { $page } of { $pages }
}
product-details = { $name } — { $price }
    { $description }
    Available: { $variants }
product-out-of-stock = { $name } is out of stock right now, sorry.
search-results = I found { $count } matching products:
search-relaxed = Nothing matched everything you asked for. The closest ({ $count }):
results-page = More results (page { $page } of { $pages }):
search-no-match = I couldn't find anything like that. Have a look at our categories:
not-carried = We don't carry “{ $what }”, sorry. Here is what we do sell:
not-carried-instead = We don't carry “{ $what }”, sorry. Here is what we have in { $category }:
not-carried-mentioned = We don't carry “{ $what }” as such, but these mention it:
similar-products = Similar to { $product }:
similar-none = I don't have anything like { $product } in stock right now. Maybe another category?
pick-variant = Which { $product } would you like?
pick-quantity = How many { $product } ({ $variant })? Tap a number or type one, up to { $max }.
quantity-invalid = Please send a number from 1 to { $max }.
not-enough-stock = Sorry, only { $available } more available.
added-to-cart = Added { $quantity } × { $product } ({ $variant }) to your cart. Cart total: { $total }.
cart-empty = Your cart is empty.
cart-summary = Your cart ({ $items ->
    [one] 1 item
   *[other] { $items } items
}):
cart-cleared = Your cart is now empty.
checkout-ask-name = Let's place your order. What name should we put on it?
checkout-name-invalid = Please write your name (letters only, up to 80 characters).
checkout-ask-contact = Thanks, { $name }! What phone number or e-mail can we reach you at?
checkout-contact-invalid = That doesn't look like a phone number or an e-mail address. Please try again, for example +40 721 234 567 or name@example.com.
checkout-confirm = Please check your order:
checkout-ask-fulfilment = How would you like to get your order?
checkout-ask-address = Where should we deliver it? Please write the street and number, city and postal code.
checkout-address-invalid = That doesn't look like a full address. Please write the street and number, city and postal code, for example: Str. Lipscani 12, Bucharest 030031.
checkout-confirm-delivery = Please check your order for { $name } ({ $contact }). Delivery to: { $address }
checkout-confirm-pickup = Please check your order for { $name } ({ $contact }). Pickup at: { $point }
    Name: { $name }
    Contact: { $contact }
    Total: { $total }
    Shall I place it?
checkout-stock-changed = Sorry, stock changed while you were shopping: { $products }. I've updated your cart.
order-placed = Order { $order } is placed. Total: { $total }. I'm preparing your payment link.
order-awaiting-payment = Order { $order } ({ $total }) is waiting for payment. The payment link is in the message above.
payment-link = Here is the payment link for order { $order }:
order-paid = Payment received, thank you! Order { $order } is confirmed. Total paid: { $total }.
order-paid-unlisted = Payment received, thank you! Order { $order } is confirmed.
payment-failed = The payment for order { $order } did not go through. Your items are kept: you can try again with a new link, change the order, or talk to a person.
payment-expired = The payment link for order { $order } expired before the payment was made. Your items are kept: I can send a new link, or you can change the order.
payment-unavailable = I couldn't prepare the payment link for order { $order } just now. Your items are kept: try again in a moment, or talk to a person.
payment-new-link = I'm preparing a new payment link for order { $order }.
order-oversold = One more thing: { $products } sold out just before your payment arrived. The shop will contact you to refund or replace it.
order-fulfilled = Good news: order { $order } is packed and ready.
order-shipped = Order { $order } is on its way!
order-delivered = Order { $order } has been delivered. Enjoy, and thank you for shopping with us!
order-cancelled = Order { $order } has been cancelled. If you paid, the refund follows.
order-refund-needed = We're arranging a refund for order { $order }. We'll write again when the money is on its way back to you.
order-refunded = Order { $order } has been refunded. It can take a few days to show on your statement.
order-status-line = Order { $order } ({ $total }): { $status ->
        [pending_payment] waiting for payment
        [paid] paid, being prepared
        [payment_failed] payment did not go through
        [fulfilled] packed and ready
        [shipped] on its way
        [delivered] delivered
        [cancelled] cancelled
        [refund_needed] refund being arranged
        [refunded] refunded
       *[other] …
    }
orders-none = I don't see any orders from you yet.
choice-browse = Browse products
choice-cart = View cart
choice-help = Help
choice-menu = Menu
choice-human = Talk to a person
choice-language = Language
choice-details = Details
choice-add = Add to cart
choice-more = More
choice-back = Back
choice-checkout = Checkout
choice-remove = Remove
choice-clear = Empty cart
choice-confirm = Place order
choice-cancel = Cancel
choice-pay = Pay now
choice-pay-again = Pay again
choice-edit-order = Change order
choice-track = Track parcel
choice-orders = My orders
choice-similar = Similar
choice-delivery = Delivery
choice-pickup = Pickup: { $point }
choice-use-saved-address = Deliver to { $address }
choice-use-saved = Use { $name }, { $contact }
choice-options = Options
pay-page-title = Pay for order { $order }
pay-page-note = This is the demo payment page: no money is taken.
pay-page-delivery = Delivery to: { $address }
pay-page-pickup = Pickup at: { $point }
pay-sold-out = Sorry, { $products } sold out before the payment went through. Nothing was charged.
pay-not-payable = This order can no longer be paid here. Nothing was charged.
link-code-issued = Your link code is { $code }. Send it from your other chat (WhatsApp, Telegram, Messenger…) within { $minutes } minutes to continue there with the same cart and orders.
link-done = Done! Your chats are linked: you can go on here or there. Your cart has { $items ->
    [one] 1 item
   *[other] { $items } items
 }.
link-carts-differ = Done, your chats are linked. This cart has { $items } items and the other chat's cart { $other }. Add them together, or keep only this one?
link-code-unknown = That link code doesn't match any. Please check it and send it again.
link-code-expired = That link code has expired. Ask for a new one with "link my account" in your other chat.
link-code-used = That link code was already used. Ask for a new one if you need it.
link-same-customer = This chat is already linked to the one that made that code.
link-too-many-tries = Too many wrong codes. Please wait a few minutes and try again.
link-phone-unknown = Thanks! No other chat of yours uses that number yet.
link-code-sent = I've sent a link code to your WhatsApp chat with that number. Send it here to link the two.
preferred-channel-set = Done: order and delivery news will come here, wherever you write to us from.
choice-prefer-here = Send news here
recovery-gentle = You left { $items } items in your cart ({ $total }). They're still here whenever you're ready. May I remind you again later?
recovery-next-day = Your cart is still waiting: { $items } items, { $total }. Shall we finish your order?
recovery-last-call = Last reminder: your cart ({ $items } items, { $total }) is still saved. After this I won't write about it again.
recovery-stopped = Understood, no more reminders about your cart. It stays saved if you come back.
recovery-consent-thanks = Thanks! I'll send you a short reminder now and then while items wait in your cart.
choice-remind-me = Yes, remind me
choice-stop-reminders = Stop reminders
choice-merge-carts = Add them together
choice-keep-cart = Keep only this cart
pay-page-button = Pay { $total }
pay-page-decline = Simulate a declined card
pay-page-paid = Order { $order } is paid. You can go back to the chat.
pay-page-closed = This order can no longer be paid here. Go back to the chat for a new link.
pay-page-return = Thank you. You can close this page and go back to the chat.
badge-out-of-stock = Out of stock
card-price-from = from { $price }
cart-title = Your cart
order-title = Your order
cart-total = Total
booking-services = What would you like to book?
booking-days = When would you like to come for { $service }? These days have free times, or write a day and time, like "tomorrow afternoon" or "Friday at 10".
booking-no-days = Sorry, there are no free times for { $service } in the next { $days } days. A person from our team can help.
booking-times = Free times for { $service } on { $day } ({ $zone } time{ $theirs ->
        [none] {""}
       *[other] ; yours, { $theirs }, in brackets
    }):
booking-no-times = Nothing is free on { $day } at that time. These days have free times:
booking-ask-name = I'm keeping this time for you for a few minutes. What name should the booking be under?
booking-ask-contact = Thanks, { $name }. What phone number (or e-mail) can we reach you on?
booking-confirm = Please check: { $service } with { $staff }, { $when } ({ $minutes } min), for { $name } ({ $contact }). Shall I book it?
booking-confirm-price = Price: { $price }.
booking-confirm-deposit = To keep the time you pay a deposit of { $deposit } by link right after you confirm; unpaid, the booking lapses when the link expires.
booking-done = Booked! { $service } with { $staff }, { $when }. I'll remind you before. You can move or cancel it here.
booking-moved = Moved! { $service } with { $staff } is now { $when }.
booking-taken = Sorry, { $when } was just taken by someone else.
booking-cancelled = Your booking for { $service }, { $when }, is cancelled.
booking-cancel-ask = Cancel your booking for { $service }, { $when }?
booking-too-late = Your appointment is { $when }: changes in chat are possible up to { $hours } hours before. A person from our team can help.
booking-reminder = Reminder: { $service } with { $staff }, { $when }. Will you come?
booking-attend-thanks = Thank you! See you { $when }.
booking-item = { $service }, { $when }
booking-none = You have no upcoming appointments.
booking-gone = That appointment is no longer open for changes.
choice-book = Book an appointment
choice-bookings = My appointments
choice-reschedule = Move it
choice-cancel-booking = Cancel booking
choice-confirm-cancel-booking = Yes, cancel it
choice-keep-booking = No, keep it
choice-earlier-times = Earlier
choice-later-times = Later
choice-attend = I'll be there
choice-other-days = Other days
day-label = { $day }
time-label = { $time }
link-calendar = Add to calendar
recovery-discount = A little thank-you for coming back: code { $code } takes { $percent }% off your cart until { $until }.
discount-applied = Code { $code } applied: { $percent }% off. Your cart now comes to { $total }.
discount-in-order = Code { $code }: −{ $percent }% (−{ $amount }).
discount-unknown = I don't know that code. Codes come with our reminders and work only in the chat they were sent to.
discount-used = That code was already used for an order; each code works once.
discount-expired = Sorry, that code has expired.
choice-use-discount = Use the code
booking-deposit = To keep this time, please pay a deposit of { $amount } with the link that follows. Without it the booking lapses when the link expires.
booking-deposit-paid = Deposit received: { $service }, { $when } is yours.
booking-deposit-expired = The deposit for { $service }, { $when } was not paid in time, so the booking is cancelled and the time freed.
choice-confirm-booking = Book it
erasure-ask = Do you want us to delete your data? This deletes our chat history, your details, your cart and reminders on every channel you linked, and cannot be undone. Orders you paid are kept for accounting, without your name or contact.
erasure-kept = Nothing was deleted.
erasure-done = Your data has been deleted. Paid orders are kept for accounting without your name or contact. If you write again, we start afresh.
choice-erase-confirm = Yes, delete it
choice-erase-keep = No, keep it
marketing-ask = Would you like to hear from us about new products and offers now and then? You can say "stop" at any time.
marketing-thanks = Thank you! We'll write now and then with news and offers. Say "stop" at any time.
marketing-stopped = Understood, no news or offers from us.
marketing-message = { $text }
choice-marketing-yes = Yes, send offers
choice-marketing-no = No, thanks
choice-stop-offers = Stop offers
