# Canned replies for operators (English). One message per reply; `.title` names it in the
# console's menu. Placeholders: { $name } the customer's name, { $order } their last order.
greeting = Hi { $name }, thanks for waiting! I'm here now. How can I help?
    .title = Greeting
order-status = I've checked order { $order }: it's on its way, and you'll get the tracking link here as soon as the courier scans it.
    .title = Order on its way
delivery-time = Orders placed before 14:00 on a working day leave the same day; delivery usually takes 1–3 working days.
    .title = Delivery times
goodbye = Glad I could help, { $name }! The assistant is back if you need anything else.
    .title = Goodbye
