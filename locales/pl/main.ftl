# souk — customer-facing text, Polish (polski). Every message id here is used by the conversation
# core (flows::TextKey); the locale test fails on a missing or unused id.
# Arguments: $shop, $name, $product, $variant, $category, $order and $contact are text;
# $price and $total are already formatted money; $items, $page, $pages, $count, $quantity,
# $max and $available are numbers.
# Style: informal "Ty" (capitalised), no gendered past-tense forms for the bot or the customer.
# Plural categories: one (1), few (2–4, 22–24…), many (0, 5–21…), other (fractions).

welcome = Cześć! Witaj w sklepie { $shop }. Mogę pokazać Ci nasze produkty, przechować Twój koszyk i przyjąć zamówienie — wszystko tutaj, w czacie. Co chcesz zrobić?
welcome-back = Witaj ponownie w sklepie { $shop }! { $items ->
    [0] W czym mogę pomóc?
    [one] Masz 1 produkt w koszyku.
    [few] Masz { $items } produkty w koszyku.
   *[many] Masz { $items } produktów w koszyku.
    [other] Masz { $items } produktu w koszyku.
}
menu = Co chcesz zrobić?
help = Możesz użyć przycisków albo po prostu do mnie napisać: nazwę produktu (np. „kubek”), „koszyk”, „do kasy”, „menu”, „język” albo „konsultant”, żeby porozmawiać z człowiekiem. Wpisując liczbę, wybierasz pozycję z ostatnio pokazanej listy.
human-requested = Poprosiliśmy konsultanta o dołączenie do rozmowy. Zwykle ktoś odpowiada tutaj w ciągu { $minutes } min. W międzyczasie nadal jestem tutaj, jeśli czegoś potrzebujesz.
handoff-after-misses = Przepraszam, nadal nie rozumiem. Poprosiłem konsultanta o dołączenie; zwykle ktoś odpowiada tutaj w ciągu { $minutes } min.
knowledge-answer = { $text }
    (Źródło: { $source })
handoff-unanswered-question = Niestety nie znam odpowiedzi na to pytanie. Poprosiłem konsultanta o dołączenie; zwykle ktoś odpowiada tutaj w ciągu { $minutes } min.
handoff-after-payment-failures = Płatność znowu się nie powiodła. Poprosiłem konsultanta o pomoc; zwykle ktoś odpowiada tutaj w ciągu { $minutes } min.
handoff-offline = Nasz zespół jest teraz niedostępny. Możesz kontynuować ze mną albo zostawić wiadomość, a odpowiemy, gdy tylko wrócimy.
handoff-still-waiting = Twoja wiadomość czeka na nasz zespół. Zwykle ktoś odpowiada w ciągu { $minutes } min.
handoff-message-kept = Dziękujemy, Twoja wiadomość czeka na nasz zespół.
handoff-nobody = Przepraszamy, nikt z zespołu nie jest teraz wolny. Możesz kontynuować ze mną albo zostawić wiadomość, a odpowiemy najszybciej, jak to możliwe.
handoff-leave-message = Napisz tutaj swoją wiadomość; nasz zespół odpowie najszybciej, jak to możliwe.
operator-joined = { $operator } z naszego zespołu jest tutaj, aby Ci pomóc.
operator-message = { $text }
bot-resumed = Dziękujemy za cierpliwość! Znowu jestem tutaj, aby Ci pomóc.
choice-continue-with-bot = Kontynuuj z botem
choice-leave-message = Zostaw wiadomość
cancelled = OK, anulowano. Koszyk pozostaje bez zmian.
language-choose = Wybierz język:
language-set = Od teraz będę pisać w języku: { $language }.
not-understood = Przepraszam, nie rozumiem. Możesz wybrać jedną z tych opcji albo napisać „pomoc”.
stale-choice = Ten przycisk dotyczy wcześniejszego kroku. Oto, co możesz zrobić teraz:
unsupported-message = Na razie rozumiem tylko tekst i przyciski. Napisz, proszę, swoje pytanie.
thanks-reply = Nie ma za co! Czy mogę pomóc w czymś jeszcze?
categories = Oto nasze kategorie:
category-products = { $category } ({ $count ->
    [one] 1 produkt
    [few] { $count } produkty
   *[many] { $count } produktów
    [other] { $count } produktu
}){ $pages ->
    [1] {""}
   *[other] {" "}· strona { $page } z { $pages }
}
product-details = { $name } — { $price }
    { $description }
    Dostępne warianty: { $variants }
product-out-of-stock = Przepraszamy, produkt { $name } jest chwilowo niedostępny.
search-results = { $count ->
    [one] Znaleziono 1 pasujący produkt:
    [few] Znaleziono { $count } pasujące produkty:
   *[many] Znaleziono { $count } pasujących produktów:
    [other] Znaleziono { $count } pasującego produktu:
}
search-relaxed = Nic nie pasuje do wszystkiego, o co prosisz. Najbliższe ({ $count }):
results-page = Więcej wyników (strona { $page } z { $pages }):
search-no-match = Nie znalazłem niczego podobnego. Zobacz nasze kategorie:
not-carried = Niestety nie mamy w ofercie „{ $what }”. Oto, co sprzedajemy:
not-carried-instead = Niestety nie mamy w ofercie „{ $what }”. Oto, co mamy w kategorii { $category }:
not-carried-mentioned = Nie mamy „{ $what }” jako takiego, ale te produkty o tym wspominają:
similar-products = Podobne do { $product }:
similar-none = Nie mam teraz w magazynie niczego podobnego do { $product }. Może inna kategoria?
pick-variant = Który wariant produktu { $product } wybierasz?
pick-quantity = Ile sztuk produktu { $product } ({ $variant })? Wybierz lub wpisz liczbę, maksymalnie { $max }.
quantity-invalid = Wyślij liczbę od 1 do { $max }.
not-enough-stock = { $available ->
    [one] Przepraszamy, dostępna jest jeszcze tylko 1 sztuka.
    [few] Przepraszamy, dostępne są jeszcze tylko { $available } sztuki.
   *[many] Przepraszamy, dostępnych jest jeszcze tylko { $available } sztuk.
    [other] Przepraszamy, dostępne jest jeszcze tylko { $available } sztuki.
}
added-to-cart = Dodano do koszyka: { $quantity } × { $product } ({ $variant }). Wartość koszyka: { $total }.
cart-empty = Twój koszyk jest pusty.
cart-summary = Twój koszyk ({ $items ->
    [one] 1 produkt
    [few] { $items } produkty
   *[many] { $items } produktów
    [other] { $items } produktu
}):
cart-cleared = Twój koszyk jest teraz pusty.
checkout-ask-name = Złóżmy zamówienie. Na jakie imię i nazwisko mamy je przyjąć?
checkout-name-invalid = Napisz swoje imię i nazwisko (tylko litery, maksymalnie 80 znaków).
checkout-ask-contact = Dziękuję, { $name }! Pod jakim numerem telefonu lub adresem e-mail możemy się z Tobą skontaktować?
checkout-contact-invalid = To nie wygląda na numer telefonu ani adres e-mail. Spróbuj jeszcze raz, np. +48 601 234 567 lub jan@example.com.
checkout-confirm = Sprawdź swoje zamówienie:
checkout-ask-fulfilment = Jak chcesz otrzymać zamówienie?
checkout-ask-address = Gdzie mamy je dostarczyć? Podaj ulicę i numer, miasto oraz kod pocztowy.
checkout-address-invalid = To nie wygląda na pełny adres. Podaj ulicę i numer, miasto oraz kod pocztowy, na przykład: ul. Marszałkowska 10, 00-590 Warszawa.
checkout-confirm-delivery = Sprawdź zamówienie dla: { $name } ({ $contact }). Dostawa na adres: { $address }
checkout-confirm-pickup = Sprawdź zamówienie dla: { $name } ({ $contact }). Odbiór w: { $point }
    Imię i nazwisko: { $name }
    Kontakt: { $contact }
    Razem: { $total }
    Czy mam je złożyć?
checkout-stock-changed = Przepraszamy, w trakcie zakupów zmieniła się dostępność produktów: { $products }. Koszyk został zaktualizowany.
order-placed = Zamówienie { $order } zostało złożone. Razem: { $total }. Przygotowuję link do płatności.
order-awaiting-payment = Zamówienie { $order } ({ $total }) czeka na płatność. Link do płatności znajdziesz w wiadomości powyżej.
payment-link = Oto link do płatności za zamówienie { $order }:
order-paid = Płatność otrzymana, dziękujemy! Zamówienie { $order } zostało potwierdzone. Zapłacono: { $total }.
order-paid-unlisted = Płatność otrzymana, dziękujemy! Zamówienie { $order } zostało potwierdzone.
payment-failed = Płatność za zamówienie { $order } nie powiodła się. Produkty czekają: możesz spróbować ponownie z nowym linkiem, zmienić zamówienie albo porozmawiać z konsultantem.
payment-expired = Link do płatności za zamówienie { $order } wygasł przed zapłatą. Produkty czekają: mogę wysłać nowy link albo możesz zmienić zamówienie.
payment-unavailable = Nie udało się teraz przygotować linku do płatności za zamówienie { $order }. Produkty czekają: spróbuj ponownie za chwilę albo porozmawiaj z konsultantem.
payment-new-link = Przygotowuję nowy link do płatności za zamówienie { $order }.
order-oversold = Jeszcze jedno: { $products } wyprzedał się tuż przed Twoją płatnością. Sklep skontaktuje się w sprawie zwrotu lub wymiany.
order-fulfilled = Dobra wiadomość: zamówienie { $order } jest spakowane i gotowe.
order-shipped = Zamówienie { $order } jest w drodze!
order-delivered = Zamówienie { $order } zostało dostarczone. Dziękujemy za zakupy!
order-cancelled = Zamówienie { $order } zostało anulowane. Jeśli zapłacono, zwrot nastąpi wkrótce.
order-refund-needed = Przygotowujemy zwrot pieniędzy za zamówienie { $order }. Napiszemy ponownie, gdy pieniądze zostaną odesłane.
order-refunded = Zwrócono pieniądze za zamówienie { $order }. Może minąć kilka dni, zanim pojawią się na wyciągu.
order-status-line = Zamówienie { $order } ({ $total }): { $status ->
        [pending_payment] czeka na płatność
        [paid] opłacone, w przygotowaniu
        [payment_failed] płatność nie powiodła się
        [fulfilled] spakowane i gotowe
        [shipped] w drodze
        [delivered] dostarczone
        [cancelled] anulowane
        [refund_needed] zwrot w przygotowaniu
        [refunded] zwrócone
       *[other] …
    }
orders-none = Nie widzę jeszcze żadnych Twoich zamówień.
choice-browse = Przeglądaj produkty
choice-cart = Pokaż koszyk
choice-help = Pomoc
choice-menu = Menu
choice-human = Czat z konsultantem
choice-language = Język
choice-details = Szczegóły
choice-add = Dodaj do koszyka
choice-more = Więcej
choice-back = Wstecz
choice-checkout = Do kasy
choice-remove = Usuń
choice-clear = Opróżnij koszyk
choice-confirm = Złóż zamówienie
choice-cancel = Anuluj
choice-pay = Zapłać teraz
choice-pay-again = Zapłać ponownie
choice-edit-order = Zmień zamówienie
choice-track = Śledź paczkę
choice-orders = Moje zamówienia
choice-similar = Podobne
choice-delivery = Dostawa
choice-pickup = Odbiór: { $point }
choice-use-saved-address = Dostarcz na { $address }
choice-use-saved = Użyj: { $name }, { $contact }
choice-options = Opcje
pay-page-title = Płatność za zamówienie { $order }
pay-page-note = To demonstracyjna strona płatności: żadne pieniądze nie są pobierane.
pay-page-delivery = Dostawa na adres: { $address }
pay-page-pickup = Odbiór w: { $point }
pay-sold-out = Przepraszamy, { $products } wyprzedało się przed płatnością. Nic nie zostało pobrane.
pay-not-payable = Tego zamówienia nie można już tutaj opłacić. Nic nie zostało pobrane.
link-code-issued = Twój kod łączenia to { $code }. Wyślij go z drugiego czatu (WhatsApp, Telegram, Messenger…) w ciągu { $minutes } minut, aby kontynuować tam z tym samym koszykiem i zamówieniami.
link-done = Gotowe! Twoje czaty są połączone: możesz kontynuować tu lub tam. W koszyku { $items ->
    [one] jest 1 produkt
    [few] są { $items } produkty
   *[other] jest { $items } produktów
 }.
link-carts-differ = Gotowe, Twoje czaty są połączone. Ten koszyk ma { $items } produktów, a koszyk z drugiego czatu { $other }. Połączyć je czy zostawić tylko ten?
link-code-unknown = Ten kod łączenia nie pasuje. Sprawdź go i wyślij ponownie.
link-code-expired = Ten kod łączenia wygasł. Poproś o nowy, pisząc „połącz konto” w drugim czacie.
link-code-used = Ten kod łączenia został już użyty. Poproś o nowy, jeśli go potrzebujesz.
link-same-customer = Ten czat jest już połączony z tym, który utworzył kod.
link-too-many-tries = Zbyt wiele błędnych kodów. Odczekaj kilka minut i spróbuj ponownie.
link-phone-unknown = Dziękujemy! Żaden inny Twój czat nie używa jeszcze tego numeru.
link-code-sent = Wysłałem kod łączenia na Twój czat WhatsApp z tym numerem. Wyślij go tutaj, aby je połączyć.
preferred-channel-set = Gotowe: informacje o zamówieniach i dostawach będą przychodzić tutaj, skądkolwiek do nas napiszesz.
choice-prefer-here = Wysyłaj informacje tutaj
recovery-gentle = W koszyku zostało { $items } produktów ({ $total }). Czekają, kiedy tylko zechcesz. Czy mogę przypomnieć później?
recovery-next-day = Twój koszyk wciąż czeka: { $items } produktów, { $total }. Dokończymy zamówienie?
recovery-last-call = Ostatnie przypomnienie: Twój koszyk ({ $items } produktów, { $total }) jest zapisany. Potem już o nim nie napiszę.
recovery-stopped = Rozumiem, koniec przypomnień o koszyku. Pozostaje zapisany, gdybyś wrócił(a).
recovery-consent-thanks = Dziękuję! Od czasu do czasu wyślę krótkie przypomnienie, gdy produkty czekają w koszyku.
choice-remind-me = Tak, przypomnij
choice-stop-reminders = Bez przypomnień
choice-merge-carts = Połącz je
choice-keep-cart = Zostaw tylko ten koszyk
pay-page-button = Zapłać { $total }
pay-page-decline = Symuluj odrzuconą kartę
pay-page-paid = Zamówienie { $order } jest opłacone. Możesz wrócić do czatu.
pay-page-closed = Tego zamówienia nie można już tu opłacić. Wróć do czatu po nowy link.
pay-page-return = Dziękujemy. Możesz zamknąć tę stronę i wrócić do czatu.
badge-out-of-stock = Brak w magazynie
card-price-from = od { $price }
cart-title = Twój koszyk
order-title = Twoje zamówienie
cart-total = Razem
booking-services = Co chcesz zarezerwować?
booking-days = Kiedy chcesz przyjść na { $service }? W te dni są wolne terminy; możesz też napisać dzień i godzinę, np. „jutro po południu” albo „w piątek o 10”.
booking-no-days = Niestety, w ciągu najbliższych { $days } dni nie ma wolnych terminów na { $service }. Ktoś z naszego zespołu może pomóc.
booking-times = Wolne terminy na { $service } w dniu { $day } (czas { $zone }{ $theirs ->
        [none] {""}
       *[other] ; Twój czas, { $theirs }, w nawiasie
    }):
booking-no-times = W dniu { $day } o tej porze nic nie ma. W te dni są wolne terminy:
booking-ask-name = Trzymam ten termin dla Ciebie przez kilka minut. Na jakie nazwisko zapisać wizytę?
booking-ask-contact = Dziękuję, { $name }. Pod jakim numerem telefonu (lub e-mailem) możemy się skontaktować?
booking-confirm = Sprawdź proszę: { $service } u { $staff }, { $when } ({ $minutes } min), dla { $name } ({ $contact }). Rezerwować?
booking-confirm-price = Cena: { $price }.
booking-confirm-deposit = Aby zatrzymać termin, wpłacasz zaliczkę { $deposit } przez link zaraz po potwierdzeniu; bez niej rezerwacja wygaśnie razem z linkiem.
booking-done = Zarezerwowane! { $service } u { $staff }, { $when }. Przypomnę wcześniej. Możesz tu przenieść lub odwołać wizytę.
booking-moved = Przeniesione! { $service } u { $staff } jest teraz { $when }.
booking-taken = Przepraszam, termin { $when } właśnie zajął ktoś inny.
booking-cancelled = Wizyta { $service }, { $when }, została odwołana.
booking-cancel-ask = Odwołać wizytę { $service }, { $when }?
booking-too-late = Twoja wizyta jest { $when }: zmiany na czacie są możliwe do { $hours } godzin przed. Ktoś z naszego zespołu może pomóc.
booking-reminder = Przypomnienie: { $service } u { $staff }, { $when }. Przyjdziesz?
booking-attend-thanks = Dziękujemy! Do zobaczenia { $when }.
booking-item = { $service }, { $when }
booking-none = Nie masz nadchodzących wizyt.
booking-gone = Tej wizyty nie można już zmienić.
choice-book = Umów wizytę
choice-bookings = Moje wizyty
choice-reschedule = Przenieś
choice-cancel-booking = Odwołaj wizytę
choice-confirm-cancel-booking = Tak, odwołaj
choice-keep-booking = Nie, zostaw
choice-earlier-times = Wcześniej
choice-later-times = Później
choice-attend = Będę
choice-other-days = Inne dni
day-label = { $day }
time-label = { $time }
link-calendar = Dodaj do kalendarza
recovery-discount = Małe podziękowanie za powrót: kod { $code } daje { $percent }% zniżki na koszyk do { $until }.
discount-applied = Kod { $code } zastosowany: { $percent }% zniżki. Koszyk kosztuje teraz { $total }.
discount-in-order = Kod { $code }: −{ $percent }% (−{ $amount }).
discount-unknown = Nie znam tego kodu. Kody przychodzą z naszymi przypomnieniami i działają tylko w czacie, do którego zostały wysłane.
discount-used = Ten kod został już użyty do zamówienia; każdy kod działa raz.
discount-expired = Przykro nam, ten kod wygasł.
choice-use-discount = Użyj kodu
booking-deposit = Aby zatrzymać ten termin, wpłać zaliczkę { $amount } przez link, który zaraz przyjdzie. Bez niej rezerwacja wygaśnie razem z linkiem.
booking-deposit-paid = Zaliczka otrzymana: { $service }, { $when } jest Twoja.
booking-deposit-expired = Zaliczka za { $service }, { $when } nie została wpłacona na czas, więc rezerwacja jest anulowana, a termin zwolniony.
choice-confirm-booking = Zarezerwuj
erasure-ask = Czy chcesz, abyśmy usunęli Twoje dane? Usuniemy historię rozmowy, Twoje dane, koszyk i przypomnienia na wszystkich połączonych kanałach. Tego nie da się cofnąć. Opłacone zamówienia zachowamy do celów księgowych, bez Twojego imienia i kontaktu.
erasure-kept = Niczego nie usunęliśmy.
erasure-done = Twoje dane zostały usunięte. Opłacone zamówienia zostają do celów księgowych, bez Twojego imienia i kontaktu. Jeśli napiszesz ponownie, zaczniemy od nowa.
choice-erase-confirm = Tak, usuń
choice-erase-keep = Nie, zostaw
marketing-ask = Czy chcesz od czasu do czasu dostawać od nas informacje o nowościach i ofertach? W każdej chwili możesz napisać „stop”.
marketing-thanks = Dziękujemy! Od czasu do czasu napiszemy o nowościach i ofertach. Napisz „stop” w każdej chwili.
marketing-stopped = Rozumiem, żadnych nowości ani ofert od nas.
marketing-message = { $text }
choice-marketing-yes = Tak, wysyłajcie oferty
choice-marketing-no = Nie, dziękuję
choice-stop-offers = Bez ofert
