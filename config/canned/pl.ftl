# Gotowe odpowiedzi dla operatorów (polski). Zmienne: { $name }, { $order }.
greeting = Dzień dobry, { $name }, dziękujemy za cierpliwość! Jestem już tutaj. W czym mogę pomóc?
    .title = Powitanie
order-status = Sprawdziłem zamówienie { $order }: jest w drodze, a link do śledzenia prześlę tutaj, gdy tylko kurier je zeskanuje.
    .title = Zamówienie w drodze
delivery-time = Zamówienia złożone do 14:00 w dzień roboczy wysyłamy tego samego dnia; dostawa trwa zwykle 1–3 dni robocze.
    .title = Czas dostawy
goodbye = Cieszę się, że mogłem pomóc, { $name }! Asystent jest znowu do dyspozycji, gdyby czegoś jeszcze Pan/Pani potrzebował(a).
    .title = Pożegnanie
