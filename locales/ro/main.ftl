# souk — customer-facing text, Romanian (română). Every message id here is used by the conversation
# core (flows::TextKey); the locale test fails on a missing or unused id.
# Arguments: $shop, $name, $product, $variant, $category, $order and $contact are text;
# $price and $total are already formatted money; $items, $page, $pages, $count, $quantity,
# $max and $available are numbers.
# Style: polite plural verb forms ("doriți", "puteți") without the "dvs." pronoun; buttons use the
# usual short imperative labels ("Adaugă în coș"). Plural categories: one, few, other ("20 de ...").

welcome = Bună! Bine ați venit la { $shop }. Vă pot arăta produsele noastre, vă păstrez coșul și vă preiau comanda chiar aici. Ce doriți să faceți?
welcome-back = Bine ați revenit la { $shop }! { $items ->
    [0] Cu ce vă pot ajuta?
    [one] Aveți 1 produs în coș.
    [few] Aveți { $items } produse în coș.
   *[other] Aveți { $items } de produse în coș.
}
menu = Ce doriți să faceți?
help = Puteți apăsa butoanele sau îmi puteți scrie direct: numele unui produs (de exemplu „cană”), „coș”, „comandă”, „meniu”, „limba” sau „operator” ca să vorbiți cu o persoană. Dacă îmi scrieți un număr, aleg elementul corespunzător din ultima listă afișată.
human-requested = Am rugat un coleg să se alăture conversației. De obicei, cineva răspunde aici în { $minutes } minute. Între timp, sunt în continuare aici dacă aveți nevoie de mine.
handoff-after-misses = Îmi pare rău, tot nu reușesc să înțeleg. Am rugat un coleg să se alăture; de obicei, cineva răspunde aici în { $minutes } minute.
knowledge-answer = { $text }
    (Sursa: { $source })
handoff-unanswered-question = Din păcate, nu știu răspunsul la această întrebare. Am rugat un coleg să se alăture; de obicei, cineva răspunde aici în { $minutes } minute.
handoff-after-payment-failures = Plata nu a reușit nici de această dată. Am rugat un coleg să vă ajute; de obicei, cineva răspunde aici în { $minutes } minute.
handoff-offline = Echipa noastră nu este disponibilă acum. Puteți continua cu mine sau puteți lăsa un mesaj și vă vom răspunde imediat ce revenim.
handoff-still-waiting = Mesajul dumneavoastră a fost păstrat pentru echipa noastră. De obicei, cineva răspunde în { $minutes } minute.
handoff-message-kept = Vă mulțumim, mesajul dumneavoastră a fost păstrat pentru echipa noastră.
handoff-nobody = Ne pare rău, nimeni din echipă nu este liber acum. Puteți continua cu mine sau puteți lăsa un mesaj și vă vom răspunde cât mai curând.
handoff-leave-message = Vă rugăm să scrieți mesajul aici; echipa noastră vă va răspunde cât mai curând posibil.
operator-joined = { $operator } din echipa noastră este aici să vă ajute.
operator-message = { $text }
bot-resumed = Vă mulțumim pentru răbdare! Sunt din nou aici să vă ajut.
choice-continue-with-bot = Continui cu robotul
choice-leave-message = Las un mesaj
cancelled = Bine, am anulat. Coșul rămâne păstrat.
language-choose = Alegeți limba:
language-set = Limba aleasă: { $language }. De acum înainte vă scriu în această limbă.
not-understood = Îmi pare rău, nu am înțeles. Puteți apăsa una dintre opțiunile de mai jos sau scrieți „ajutor”.
stale-choice = Butonul acesta ține de un pas anterior. Iată ce puteți face acum:
unsupported-message = Deocamdată pot citi doar text și butoane. Vă rog să scrieți întrebarea.
thanks-reply = Cu plăcere! Vă mai pot ajuta cu ceva?
categories = Iată categoriile noastre:
category-products = { $category } ({ $count ->
    [one] 1 produs
    [few] { $count } produse
   *[other] { $count } de produse
}){ $pages ->
    [1] {""}
   *[other] {" "}· pagina { $page } din { $pages }
}
product-details = { $name } — { $price }
    { $description }
    Variante disponibile: { $variants }
product-out-of-stock = Ne pare rău, { $name } nu mai este în stoc momentan.
search-results = { $count ->
    [one] Am găsit 1 produs potrivit:
    [few] Am găsit { $count } produse potrivite:
   *[other] Am găsit { $count } de produse potrivite:
}
search-relaxed = Nimic nu se potrivește cu tot ce ați cerut. Cele mai apropiate ({ $count }):
results-page = Mai multe rezultate (pagina { $page } din { $pages }):
search-no-match = Nu am găsit nimic asemănător. Aruncați o privire la categoriile noastre:
not-carried = Ne pare rău, nu avem „{ $what }”. Iată ce vindem:
not-carried-instead = Ne pare rău, nu avem „{ $what }”. Iată ce avem la { $category }:
not-carried-mentioned = Nu avem „{ $what }” ca atare, dar aceste produse îl menționează:
similar-products = Produse asemănătoare cu { $product }:
similar-none = Nu am acum în stoc nimic asemănător cu { $product }. Poate altă categorie?
pick-variant = Ce variantă doriți pentru { $product }?
pick-quantity = Câte bucăți de { $product } ({ $variant }) doriți? Alegeți sau scrieți un număr, cel mult { $max }.
quantity-invalid = Vă rog să trimiteți un număr de la 1 la { $max }.
not-enough-stock = { $available ->
    [one] Ne pare rău, mai este disponibilă doar 1 bucată.
    [few] Ne pare rău, mai sunt disponibile doar { $available } bucăți.
   *[other] Ne pare rău, mai sunt disponibile doar { $available } de bucăți.
}
added-to-cart = Am adăugat în coș { $quantity } × { $product } ({ $variant }). Total coș: { $total }.
cart-empty = Coșul este gol.
cart-summary = Coșul de cumpărături ({ $items ->
    [one] 1 produs
    [few] { $items } produse
   *[other] { $items } de produse
}):
cart-cleared = Coșul a fost golit.
checkout-ask-name = Să plasăm comanda. Pe ce nume o înregistrăm?
checkout-name-invalid = Vă rog să scrieți numele (doar litere, cel mult 80 de caractere).
checkout-ask-contact = Mulțumesc, { $name }! La ce număr de telefon sau adresă de e-mail vă putem contacta?
checkout-contact-invalid = Acesta nu pare a fi un număr de telefon sau o adresă de e-mail. Vă rog să încercați din nou, de exemplu +40 721 234 567 sau nume@example.com.
checkout-confirm = Vă rog să verificați comanda:
checkout-ask-fulfilment = Cum doriți să primiți comanda?
checkout-ask-address = Unde o livrăm? Vă rog scrieți strada și numărul, orașul și codul poștal.
checkout-address-invalid = Nu pare o adresă completă. Vă rog scrieți strada și numărul, orașul și codul poștal, de exemplu: Str. Lipscani 12, București 030031.
checkout-confirm-delivery = Vă rog verificați comanda pentru { $name } ({ $contact }). Livrare la: { $address }
checkout-confirm-pickup = Vă rog verificați comanda pentru { $name } ({ $contact }). Ridicare de la: { $point }
    Nume: { $name }
    Contact: { $contact }
    Total: { $total }
    Plasez comanda?
checkout-stock-changed = Ne pare rău, stocul s-a modificat în timp ce făceați cumpărături: { $products }. Am actualizat coșul.
order-placed = Comanda { $order } a fost plasată. Total: { $total }. Pregătesc linkul de plată.
order-awaiting-payment = Comanda { $order } ({ $total }) așteaptă plata. Linkul de plată se află în mesajul de mai sus.
payment-link = Iată linkul de plată pentru comanda { $order }:
order-paid = Am primit plata, mulțumim! Comanda { $order } este confirmată. Total plătit: { $total }.
order-paid-unlisted = Am primit plata, mulțumim! Comanda { $order } este confirmată.
payment-failed = Plata pentru comanda { $order } nu a reușit. Produsele sunt păstrate: puteți încerca din nou cu un link nou, puteți modifica comanda sau puteți vorbi cu o persoană.
payment-expired = Linkul de plată pentru comanda { $order } a expirat înainte de plată. Produsele sunt păstrate: vă pot trimite un link nou sau puteți modifica comanda.
payment-unavailable = Nu am putut pregăti acum linkul de plată pentru comanda { $order }. Produsele sunt păstrate: încercați din nou peste puțin timp sau vorbiți cu o persoană.
payment-new-link = Pregătesc un nou link de plată pentru comanda { $order }.
order-oversold = Încă ceva: { $products } s-a epuizat chiar înainte să ajungă plata. Magazinul vă va contacta pentru rambursare sau înlocuire.
order-fulfilled = Vești bune: comanda { $order } este ambalată și gata.
order-shipped = Comanda { $order } este pe drum!
order-delivered = Comanda { $order } a fost livrată. Vă mulțumim că ați cumpărat de la noi!
order-cancelled = Comanda { $order } a fost anulată. Dacă ați plătit, urmează rambursarea.
order-refund-needed = Pregătim rambursarea pentru comanda { $order }. Vă scriem din nou când banii sunt trimiși înapoi.
order-refunded = Suma pentru comanda { $order } a fost rambursată. Poate dura câteva zile până apare în extras.
order-status-line = Comanda { $order } ({ $total }): { $status ->
        [pending_payment] așteaptă plata
        [paid] plătită, în pregătire
        [payment_failed] plata nu a reușit
        [fulfilled] ambalată și gata
        [shipped] pe drum
        [delivered] livrată
        [cancelled] anulată
        [refund_needed] rambursare în curs
        [refunded] rambursată
       *[other] …
    }
orders-none = Nu văd încă nicio comandă de la dumneavoastră.
choice-browse = Vezi produsele
choice-cart = Vezi coșul
choice-help = Ajutor
choice-menu = Meniu
choice-human = Vreau un operator
choice-language = Limba
choice-details = Detalii
choice-add = Adaugă în coș
choice-more = Mai multe
choice-back = Înapoi
choice-checkout = Finalizează comanda
choice-remove = Elimină
choice-clear = Golește coșul
choice-confirm = Plasează comanda
choice-cancel = Anulează
choice-pay = Plătește acum
choice-pay-again = Plătește din nou
choice-edit-order = Modifică comanda
choice-track = Urmărește coletul
choice-orders = Comenzile mele
choice-similar = Asemănătoare
choice-delivery = Livrare
choice-pickup = Ridicare: { $point }
choice-use-saved-address = Livrează la { $address }
choice-use-saved = Folosește { $name }, { $contact }
choice-options = Opțiuni
pay-page-title = Plata comenzii { $order }
pay-page-note = Aceasta este pagina de plată demonstrativă: nu se încasează bani.
pay-page-delivery = Livrare la: { $address }
pay-page-pickup = Ridicare de la: { $point }
pay-sold-out = Ne pare rău, { $products } s-a epuizat înainte de plată. Nu s-a încasat nimic.
pay-not-payable = Această comandă nu mai poate fi plătită aici. Nu s-a încasat nimic.
link-code-issued = Codul tău de legătură este { $code }. Trimite-l din celălalt chat (WhatsApp, Telegram, Messenger…) în { $minutes } minute ca să continui acolo cu același coș și aceleași comenzi.
link-done = Gata! Conversațiile tale sunt legate: poți continua aici sau acolo. Coșul tău are { $items ->
    [one] 1 produs
    [few] { $items } produse
   *[other] { $items } de produse
 }.
link-carts-differ = Gata, conversațiile tale sunt legate. Coșul de aici are { $items } produse, iar cel din celălalt chat { $other }. Le adunăm sau îl păstrăm doar pe acesta?
link-code-unknown = Codul de legătură nu se potrivește. Verifică-l și trimite-l din nou.
link-code-expired = Codul de legătură a expirat. Cere unul nou cu „leagă contul” în celălalt chat.
link-code-used = Codul de legătură a fost deja folosit. Cere unul nou dacă ai nevoie.
link-same-customer = Acest chat este deja legat de cel care a generat codul.
link-too-many-tries = Prea multe coduri greșite. Te rugăm să aștepți câteva minute și să încerci din nou.
link-phone-unknown = Mulțumim! Niciun alt chat al tău nu folosește încă acest număr.
link-code-sent = Ți-am trimis un cod de legătură în chatul WhatsApp cu acel număr. Trimite-l aici ca să le legăm.
preferred-channel-set = Gata: noutățile despre comenzi și livrări vor veni aici, oriunde ne-ai scrie.
choice-prefer-here = Trimite noutățile aici
recovery-gentle = Ai lăsat { $items } produse în coș ({ $total }). Te așteaptă oricând ești gata. Pot să-ți mai amintesc mai târziu?
recovery-next-day = Coșul tău încă te așteaptă: { $items } produse, { $total }. Finalizăm comanda?
recovery-last-call = Ultima amintire: coșul tău ({ $items } produse, { $total }) este încă salvat. După aceasta nu mai scriu despre el.
recovery-stopped = Am înțeles, nu mai trimit amintiri despre coș. Rămâne salvat dacă revii.
recovery-consent-thanks = Mulțumesc! Îți voi trimite din când în când o scurtă amintire cât timp ai produse în coș.
choice-remind-me = Da, amintește-mi
choice-stop-reminders = Fără amintiri
choice-merge-carts = Adună-le
choice-keep-cart = Păstrează doar acest coș
pay-page-button = Plătește { $total }
pay-page-decline = Simulează un card refuzat
pay-page-paid = Comanda { $order } este plătită. Vă puteți întoarce în chat.
pay-page-closed = Această comandă nu mai poate fi plătită aici. Întoarceți-vă în chat pentru un link nou.
pay-page-return = Vă mulțumim. Puteți închide această pagină și reveni în chat.
badge-out-of-stock = Stoc epuizat
card-price-from = de la { $price }
cart-title = Coșul de cumpărături
order-title = Comanda dumneavoastră
cart-total = Total
booking-services = Ce doriți să programați?
booking-days = Când doriți să veniți pentru { $service }? Zilele acestea au ore libere, sau scrieți o zi și o oră, de exemplu „mâine după-amiază” sau „vineri la 10”.
booking-no-days = Ne pare rău, nu sunt ore libere pentru { $service } în următoarele { $days } zile. Un coleg vă poate ajuta.
booking-times = Ore libere pentru { $service } pe { $day } (ora { $zone }{ $theirs ->
        [none] {""}
       *[other] ; ora ta, { $theirs }, în paranteză
    }):
booking-no-times = Nu e nimic liber pe { $day } la ora aceea. Zilele acestea au ore libere:
booking-ask-name = Vă păstrez ora câteva minute. Pe ce nume fac programarea?
booking-ask-contact = Mulțumesc, { $name }. La ce număr de telefon (sau e-mail) vă putem contacta?
booking-confirm = Verificați vă rog: { $service } cu { $staff }, { $when } ({ $minutes } min), pentru { $name } ({ $contact }). Fac programarea?
booking-confirm-price = Preț: { $price }.
booking-confirm-deposit = Ca să păstrați ora, plătiți un avans de { $deposit } prin link imediat după confirmare; neplătit, programarea se anulează când linkul expiră.
booking-done = Gata, sunteți programat(ă)! { $service } cu { $staff }, { $when }. Vă voi aminti înainte. O puteți muta sau anula aici.
booking-moved = Am mutat-o! { $service } cu { $staff } este acum { $when }.
booking-taken = Ne pare rău, { $when } tocmai a fost ocupată de altcineva.
booking-cancelled = Programarea pentru { $service }, { $when }, a fost anulată.
booking-cancel-ask = Anulați programarea pentru { $service }, { $when }?
booking-too-late = Programarea este { $when }: o puteți schimba aici cu cel puțin { $hours } ore înainte. Un coleg vă poate ajuta.
booking-reminder = Vă reamintim: { $service } cu { $staff }, { $when }. Veniți?
booking-attend-thanks = Mulțumim! Vă așteptăm { $when }.
booking-item = { $service }, { $when }
booking-none = Nu aveți programări viitoare.
booking-gone = Programarea aceasta nu mai poate fi schimbată.
choice-book = Fă o programare
choice-bookings = Programările mele
choice-reschedule = Mută
choice-cancel-booking = Anulează programarea
choice-confirm-cancel-booking = Da, anulează
choice-keep-booking = Nu, o păstrez
choice-earlier-times = Mai devreme
choice-later-times = Mai târziu
choice-attend = Vin
choice-other-days = Alte zile
day-label = { $day }
time-label = { $time }
link-calendar = Adaugă în calendar
recovery-discount = Un mic mulțumesc că revii: codul { $code } îți dă { $percent }% reducere la coș până la { $until }.
discount-applied = Codul { $code } a fost aplicat: { $percent }% reducere. Coșul tău ajunge acum la { $total }.
discount-in-order = Codul { $code }: −{ $percent }% (−{ $amount }).
discount-unknown = Nu cunosc acest cod. Codurile vin cu mesajele noastre de reamintire și funcționează doar în conversația în care au fost trimise.
discount-used = Acest cod a fost deja folosit pentru o comandă; fiecare cod merge o singură dată.
discount-expired = Ne pare rău, codul a expirat.
choice-use-discount = Folosește codul
booking-deposit = Ca să păstrezi această oră, te rog plătește un avans de { $amount } prin linkul care urmează. Fără el, programarea se anulează când linkul expiră.
booking-deposit-paid = Avans primit: { $service }, { $when } este a ta.
booking-deposit-expired = Avansul pentru { $service }, { $when } nu a fost plătit la timp, așa că programarea este anulată și ora eliberată.
choice-confirm-booking = Fă programarea
erasure-ask = Vrei să ștergem datele tale? Se șterg istoricul conversației, datele tale, coșul și mementourile pe toate canalele legate, iar acțiunea nu poate fi anulată. Comenzile plătite rămân pentru contabilitate, fără numele sau contactul tău.
erasure-kept = Nu am șters nimic.
erasure-done = Datele tale au fost șterse. Comenzile plătite rămân pentru contabilitate, fără numele sau contactul tău. Dacă ne scrii din nou, începem de la zero.
choice-erase-confirm = Da, șterge-le
choice-erase-keep = Nu, păstrează-le
marketing-ask = Vrei să primești din când în când vești despre produse noi și oferte? Poți scrie „stop” oricând.
marketing-thanks = Mulțumim! Îți vom scrie din când în când cu noutăți și oferte. Scrie „stop” oricând.
marketing-stopped = Am înțeles, nu îți mai trimitem noutăți sau oferte.
marketing-message = { $text }
choice-marketing-yes = Da, trimite oferte
choice-marketing-no = Nu, mulțumesc
choice-stop-offers = Fără oferte
