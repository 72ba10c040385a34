# Gatavās atbildes operatoriem (latviski). Mainīgie: { $name }, { $order }.
greeting = Sveiki, { $name }, paldies par pacietību! Esmu šeit. Kā varu palīdzēt?
    .title = Sveiciens
order-status = Pārbaudīju pasūtījumu { $order }: tas ir ceļā, un izsekošanas saiti nosūtīšu šeit, tiklīdz kurjers to noskenēs.
    .title = Pasūtījums ceļā
delivery-time = Pasūtījumi, kas veikti līdz 14:00 darba dienā, tiek nosūtīti tajā pašā dienā; piegāde parasti ilgst 1–3 darba dienas.
    .title = Piegādes laiki
goodbye = Priecājos, ka varēju palīdzēt, { $name }! Asistents atkal ir šeit, ja vēl kas vajadzīgs.
    .title = Atvadas
