# souk — customer-facing text, Latvian (latviešu). Every message id here is used by the conversation
# core (flows::TextKey); the locale test fails on a missing or unused id.
# Arguments: $shop, $name, $product, $variant, $category, $order and $contact are text;
# $price and $total are already formatted money; $items, $page, $pages, $count, $quantity,
# $max and $available are numbers.
# Style: polite "Jūs" (capitalised). Plural categories: zero (0, 10–20, 30…), one (1, 21, 31…; not 11),
# other — so the [one] variants print the number instead of a literal 1.

welcome = Sveiki! Laipni lūdzam veikalā { $shop }. Varu parādīt mūsu preces, glabāt Jūsu grozu un pieņemt pasūtījumu turpat šeit. Ko vēlaties darīt?
welcome-back = Laipni lūdzam atpakaļ veikalā { $shop }! { $items ->
    [0] Kā varu palīdzēt?
    [zero] Jūsu grozā ir { $items } preces.
    [one] Jūsu grozā ir { $items } prece.
   *[other] Jūsu grozā ir { $items } preces.
}
menu = Ko vēlaties darīt?
help = Varat spiest pogas vai vienkārši rakstīt man: preces nosaukumu (piemēram, „krūze”), „grozs”, „apmaksāt”, „izvēlne”, „valoda” vai „operators”, lai runātu ar cilvēku. Uzrakstot skaitli, Jūs izvēlaties attiecīgo vienumu no pēdējā parādītā saraksta.
human-requested = Palūdzu kolēģim pievienoties sarunai. Parasti kāds šeit atbild { $minutes } minūšu laikā. Tikmēr es joprojām esmu šeit, ja Jums kas vajadzīgs.
handoff-after-misses = Atvainojiet, joprojām nesaprotu. Palūdzu kolēģim pievienoties; parasti kāds šeit atbild { $minutes } minūšu laikā.
knowledge-answer = { $text }
    (Avots: { $source })
handoff-unanswered-question = Diemžēl es nezinu atbildi uz šo jautājumu. Palūdzu kolēģim pievienoties; parasti kāds šeit atbild { $minutes } minūšu laikā.
handoff-after-payment-failures = Maksājums atkal neizdevās. Palūdzu kolēģim palīdzēt; parasti kāds šeit atbild { $minutes } minūšu laikā.
handoff-offline = Mūsu komanda šobrīd nav pieejama. Varat turpināt ar mani vai atstāt ziņu, un mēs atbildēsim, tiklīdz atgriezīsimies.
handoff-still-waiting = Jūsu ziņa ir saglabāta mūsu komandai. Parasti kāds atbild { $minutes } minūšu laikā.
handoff-message-kept = Paldies, Jūsu ziņa ir saglabāta mūsu komandai.
handoff-nobody = Atvainojiet, šobrīd neviens no komandas nav brīvs. Varat turpināt ar mani vai atstāt ziņu, un mēs atbildēsim, cik drīz vien iespējams.
handoff-leave-message = Lūdzu, uzrakstiet savu ziņu šeit; mūsu komanda atbildēs, cik drīz vien iespējams.
operator-joined = { $operator } no mūsu komandas ir šeit, lai Jums palīdzētu.
operator-message = { $text }
bot-resumed = Paldies par pacietību! Es atkal esmu šeit, lai palīdzētu.
choice-continue-with-bot = Turpināt ar robotu
choice-leave-message = Atstāt ziņu
cancelled = Labi, atcēlu. Jūsu grozs ir saglabāts.
language-choose = Izvēlieties valodu:
language-set = Turpmāk rakstīšu šajā valodā: { $language }.
not-understood = Atvainojiet, nesapratu. Varat izvēlēties kādu no šīm iespējām vai uzrakstīt „palīdzība”.
stale-choice = Šī poga attiecas uz kādu no iepriekšējiem soļiem. Lūk, ko varat darīt tagad:
unsupported-message = Pagaidām varu lasīt tikai tekstu un pogas. Lūdzu, uzrakstiet savu jautājumu.
thanks-reply = Lūdzu! Vai varu vēl kā palīdzēt?
categories = Lūk, mūsu kategorijas:
category-products = { $category } ({ $count ->
    [zero] { $count } preces
    [one] { $count } prece
   *[other] { $count } preces
}){ $pages ->
    [1] {""}
   *[other] {" "}· { $page }. lappuse no { $pages }
}
product-details = { $name } — { $price }
    { $description }
    Pieejamie varianti: { $variants }
product-out-of-stock = Atvainojiet, { $name } pašlaik nav noliktavā.
search-results = { $count ->
    [zero] Atradu { $count } atbilstošas preces:
    [one] Atradu { $count } atbilstošu preci:
   *[other] Atradu { $count } atbilstošas preces:
}
search-relaxed = Nekas neatbilst visam, ko lūdzāt. Vistuvākie ({ $count }):
results-page = Vairāk rezultātu ({ $page }. lapa no { $pages }):
search-no-match = Neko līdzīgu neatradu. Apskatiet mūsu kategorijas:
not-carried = Diemžēl mums nav “{ $what }”. Lūk, ko mēs pārdodam:
not-carried-instead = Diemžēl mums nav “{ $what }”. Lūk, kas mums ir kategorijā { $category }:
not-carried-mentioned = Mums nav tieši “{ $what }”, bet šīs preces to piemin:
similar-products = Līdzīgi kā { $product }:
similar-none = Pašlaik noliktavā nav nekā līdzīga kā { $product }. Varbūt cita kategorija?
pick-variant = { $product }: kuru variantu vēlaties?
pick-quantity = { $product } ({ $variant }): cik gabalus vēlaties? Izvēlieties vai ierakstiet skaitli, ne vairāk kā { $max }.
quantity-invalid = Lūdzu, nosūtiet skaitli no 1 līdz { $max }.
not-enough-stock = Atvainojiet, pieejamais atlikums ir tikai { $available } gab.
added-to-cart = Pievienoju grozam: { $quantity } × { $product } ({ $variant }). Groza summa: { $total }.
cart-empty = Jūsu grozs ir tukšs.
cart-summary = Jūsu grozs ({ $items ->
    [zero] { $items } preces
    [one] { $items } prece
   *[other] { $items } preces
}):
cart-cleared = Jūsu grozs tagad ir tukšs.
checkout-ask-name = Noformēsim pasūtījumu. Uz kādu vārdu to noformēt?
checkout-name-invalid = Lūdzu, uzrakstiet savu vārdu (tikai burti, ne vairāk kā 80 rakstzīmes).
checkout-ask-contact = Paldies, { $name }! Pa kādu tālruņa numuru vai e-pasta adresi varam ar Jums sazināties?
checkout-contact-invalid = Tas neizskatās pēc tālruņa numura vai e-pasta adreses. Lūdzu, mēģiniet vēlreiz, piemēram, +371 2123 4567 vai vards@example.com.
checkout-confirm = Lūdzu, pārbaudiet pasūtījumu:
checkout-ask-fulfilment = Kā vēlaties saņemt pasūtījumu?
checkout-ask-address = Kur to piegādāt? Lūdzu, uzrakstiet ielu un numuru, pilsētu un pasta indeksu.
checkout-address-invalid = Tā neizskatās pēc pilnas adreses. Lūdzu, uzrakstiet ielu un numuru, pilsētu un pasta indeksu, piemēram: Brīvības iela 10, Rīga LV-1010.
checkout-confirm-delivery = Lūdzu, pārbaudiet pasūtījumu: { $name } ({ $contact }). Piegāde uz: { $address }
checkout-confirm-pickup = Lūdzu, pārbaudiet pasūtījumu: { $name } ({ $contact }). Saņemšana: { $point }
    Vārds: { $name }
    Kontakti: { $contact }
    Kopā: { $total }
    Vai noformēt pasūtījumu?
checkout-stock-changed = Atvainojiet, kamēr iepirkāties, mainījās preču atlikumi: { $products }. Atjaunināju Jūsu grozu.
order-placed = Pasūtījums { $order } ir noformēts. Kopā: { $total }. Gatavoju maksājuma saiti.
order-awaiting-payment = Pasūtījums { $order } ({ $total }) gaida apmaksu. Maksājuma saite ir iepriekšējā ziņā.
payment-link = Lūk, maksājuma saite pasūtījumam { $order }:
order-paid = Maksājums saņemts, paldies! Pasūtījums { $order } ir apstiprināts. Samaksāts: { $total }.
order-paid-unlisted = Maksājums saņemts, paldies! Pasūtījums { $order } ir apstiprināts.
payment-failed = Pasūtījuma { $order } apmaksa neizdevās. Preces paliek jums: varat mēģināt vēlreiz ar jaunu saiti, mainīt pasūtījumu vai runāt ar cilvēku.
payment-expired = Pasūtījuma { $order } maksājuma saite beidzās pirms apmaksas. Preces paliek jums: varu nosūtīt jaunu saiti, vai varat mainīt pasūtījumu.
payment-unavailable = Pašlaik neizdevās sagatavot maksājuma saiti pasūtījumam { $order }. Preces paliek jums: mēģiniet vēlreiz pēc brīža vai runājiet ar cilvēku.
payment-new-link = Gatavoju jaunu maksājuma saiti pasūtījumam { $order }.
order-oversold = Vēl kas: { $products } tika izpārdots tieši pirms jūsu maksājuma. Veikals sazināsies par naudas atmaksu vai aizstāšanu.
order-fulfilled = Labas ziņas: pasūtījums { $order } ir iepakots un gatavs.
order-shipped = Pasūtījums { $order } ir ceļā!
order-delivered = Pasūtījums { $order } ir piegādāts. Paldies, ka iepērkaties pie mums!
order-cancelled = Pasūtījums { $order } ir atcelts. Ja samaksājāt, nauda tiks atmaksāta.
order-refund-needed = Mēs kārtojam naudas atmaksu par pasūtījumu { $order }. Uzrakstīsim vēlreiz, kad nauda būs nosūtīta atpakaļ.
order-refunded = Nauda par pasūtījumu { $order } ir atmaksāta. Līdz tā parādās kontā, var paiet dažas dienas.
order-status-line = Pasūtījums { $order } ({ $total }): { $status ->
        [pending_payment] gaida apmaksu
        [paid] apmaksāts, tiek sagatavots
        [payment_failed] apmaksa neizdevās
        [fulfilled] iepakots un gatavs
        [shipped] ceļā
        [delivered] piegādāts
        [cancelled] atcelts
        [refund_needed] atmaksa tiek kārtota
        [refunded] atmaksāts
       *[other] …
    }
orders-none = Pagaidām neredzu jūsu pasūtījumus.
choice-browse = Skatīt preces
choice-cart = Skatīt grozu
choice-help = Palīdzība
choice-menu = Izvēlne
choice-human = Runāt ar operatoru
choice-language = Valoda
choice-details = Sīkāk
choice-add = Pievienot grozam
choice-more = Vairāk
choice-back = Atpakaļ
choice-checkout = Noformēt pasūtījumu
choice-remove = Noņemt
choice-clear = Iztukšot grozu
choice-confirm = Pasūtīt
choice-cancel = Atcelt
choice-pay = Maksāt tagad
choice-pay-again = Maksāt vēlreiz
choice-edit-order = Mainīt pasūtījumu
choice-track = Izsekot sūtījumu
choice-orders = Mani pasūtījumi
choice-similar = Līdzīgi
choice-delivery = Piegāde
choice-pickup = Saņemt: { $point }
choice-use-saved-address = Piegādāt uz { $address }
choice-use-saved = Izmantot: { $name }, { $contact }
choice-options = Iespējas
pay-page-title = Pasūtījuma { $order } apmaksa
pay-page-note = Šī ir demonstrācijas maksājumu lapa: nauda netiek iekasēta.
pay-page-delivery = Piegāde uz: { $address }
pay-page-pickup = Saņemšana: { $point }
pay-sold-out = Atvainojiet, { $products } tika izpārdots pirms maksājuma. Nauda netika iekasēta.
pay-not-payable = Šo pasūtījumu vairs nevar apmaksāt šeit. Nauda netika iekasēta.
link-code-issued = Tavs savienošanas kods ir { $code }. Nosūti to no otras sarunas (WhatsApp, Telegram, Messenger…) { $minutes } minūšu laikā, lai turpinātu tur ar to pašu grozu un pasūtījumiem.
link-done = Gatavs! Tavas sarunas ir savienotas: vari turpināt šeit vai tur. Grozā ir { $items ->
    [zero] { $items } preču
    [one] { $items } prece
   *[other] { $items } preces
 }.
link-carts-differ = Gatavs, tavas sarunas ir savienotas. Šajā grozā ir { $items } preces, otras sarunas grozā — { $other }. Apvienot tos vai paturēt tikai šo?
link-code-unknown = Šis savienošanas kods neatbilst. Lūdzu, pārbaudi to un nosūti vēlreiz.
link-code-expired = Šī savienošanas koda derīgums ir beidzies. Palūdz jaunu ar “savienot kontu” otrā sarunā.
link-code-used = Šis savienošanas kods jau ir izmantots. Palūdz jaunu, ja nepieciešams.
link-same-customer = Šī saruna jau ir savienota ar to, kas izveidoja kodu.
link-too-many-tries = Pārāk daudz nepareizu kodu. Lūdzu, pagaidi dažas minūtes un mēģini vēlreiz.
link-phone-unknown = Paldies! Neviena cita tava saruna vēl neizmanto šo numuru.
link-code-sent = Nosūtīju savienošanas kodu uz tavu WhatsApp sarunu ar šo numuru. Nosūti to šeit, lai tās savienotu.
preferred-channel-set = Gatavs: ziņas par pasūtījumiem un piegādēm nāks šeit, lai kur tu mums rakstītu.
choice-prefer-here = Sūtīt ziņas šeit
recovery-gentle = Grozā palika { $items } preces ({ $total }). Tās gaida, kad būsi gatavs. Vai drīkstu atgādināt vēlāk?
recovery-next-day = Tavs grozs joprojām gaida: { $items } preces, { $total }. Pabeigsim pasūtījumu?
recovery-last-call = Pēdējais atgādinājums: tavs grozs ({ $items } preces, { $total }) joprojām ir saglabāts. Pēc tam par to vairs nerakstīšu.
recovery-stopped = Sapratu, vairs neatgādināšu par grozu. Tas paliek saglabāts, ja atgriezīsies.
recovery-consent-thanks = Paldies! Laiku pa laikam atsūtīšu īsu atgādinājumu, kamēr grozā gaida preces.
choice-remind-me = Jā, atgādini
choice-stop-reminders = Bez atgādinājumiem
choice-merge-carts = Apvienot
choice-keep-cart = Paturēt tikai šo grozu
pay-page-button = Maksāt { $total }
pay-page-decline = Simulēt noraidītu karti
pay-page-paid = Pasūtījums { $order } ir apmaksāts. Varat atgriezties tērzēšanā.
pay-page-closed = Šo pasūtījumu šeit vairs nevar apmaksāt. Atgriezieties tērzēšanā pēc jaunas saites.
pay-page-return = Paldies. Varat aizvērt šo lapu un atgriezties tērzēšanā.
badge-out-of-stock = Nav noliktavā
card-price-from = no { $price }
cart-title = Jūsu grozs
order-title = Jūsu pasūtījums
cart-total = Kopā
booking-services = Ko vēlaties rezervēt?
booking-days = Kad vēlaties nākt uz { $service }? Šajās dienās ir brīvi laiki, vai uzrakstiet dienu un laiku, piemēram, “rīt pēcpusdienā” vai “piektdien plkst. 10”.
booking-no-days = Diemžēl nākamajās { $days } dienās { $service } brīvu laiku nav. Kāds no mūsu komandas var palīdzēt.
booking-times = Brīvie laiki { $service } { $day } ({ $zone } laiks{ $theirs ->
        [none] {""}
       *[other] ; jūsu laiks, { $theirs }, iekavās
    }):
booking-no-times = { $day } tajā laikā nekas nav brīvs. Šajās dienās ir brīvi laiki:
booking-ask-name = Turu šo laiku jums dažas minūtes. Uz kādu vārdu pierakstīt?
booking-ask-contact = Paldies, { $name }. Pa kādu tālruni (vai e-pastu) varam sazināties?
booking-confirm = Lūdzu, pārbaudiet: { $service } pie { $staff }, { $when } ({ $minutes } min), { $name } ({ $contact }). Pierakstīt?
booking-confirm-price = Cena: { $price }.
booking-confirm-deposit = Lai paturētu laiku, uzreiz pēc apstiprināšanas samaksājiet depozītu { $deposit } ar saiti; nesamaksājot pieraksts beigsies, kad saite zaudēs derīgumu.
booking-done = Pierakstīts! { $service } pie { $staff }, { $when }. Es atgādināšu iepriekš. Šeit varat to pārcelt vai atcelt.
booking-moved = Pārcelts! { $service } pie { $staff } tagad ir { $when }.
booking-taken = Atvainojiet, laiku { $when } tikko aizņēma kāds cits.
booking-cancelled = Jūsu pieraksts { $service }, { $when }, ir atcelts.
booking-cancel-ask = Atcelt pierakstu { $service }, { $when }?
booking-too-late = Jūsu vizīte ir { $when }: tērzēšanā to var mainīt līdz { $hours } stundām iepriekš. Kāds no mūsu komandas var palīdzēt.
booking-reminder = Atgādinājums: { $service } pie { $staff }, { $when }. Vai ieradīsieties?
booking-attend-thanks = Paldies! Uz tikšanos { $when }.
booking-item = { $service }, { $when }
booking-none = Jums nav gaidāmu pierakstu.
booking-gone = Šo pierakstu vairs nevar mainīt.
choice-book = Pierakstīties
choice-bookings = Mani pieraksti
choice-reschedule = Pārcelt
choice-cancel-booking = Atcelt pierakstu
choice-confirm-cancel-booking = Jā, atcelt
choice-keep-booking = Nē, paturēt
choice-earlier-times = Agrāk
choice-later-times = Vēlāk
choice-attend = Ieradīšos
choice-other-days = Citas dienas
day-label = { $day }
time-label = { $time }
link-calendar = Pievienot kalendāram
recovery-discount = Neliels paldies, ka atgriezāties: kods { $code } dod { $percent }% atlaidi grozam līdz { $until }.
discount-applied = Kods { $code } piemērots: { $percent }% atlaide. Grozs tagad maksā { $total }.
discount-in-order = Kods { $code }: −{ $percent }% (−{ $amount }).
discount-unknown = Šo kodu nepazīstu. Kodi nāk ar mūsu atgādinājumiem un darbojas tikai tajā tērzēšanā, uz kuru tie nosūtīti.
discount-used = Šis kods jau izmantots pasūtījumam; katrs kods der vienu reizi.
discount-expired = Diemžēl šī koda derīgums ir beidzies.
choice-use-discount = Izmantot kodu
booking-deposit = Lai paturētu šo laiku, lūdzu, samaksājiet depozītu { $amount }, izmantojot saiti, kas sekos. Bez tā pieraksts beigsies, kad saite zaudēs derīgumu.
booking-deposit-paid = Depozīts saņemts: { $service }, { $when } ir jūsu.
booking-deposit-expired = Depozīts par { $service }, { $when } netika samaksāts laikā, tāpēc pieraksts ir atcelts un laiks atbrīvots.
choice-confirm-booking = Pierakstīties
erasure-ask = Vai vēlaties, lai dzēšam jūsu datus? Tiks dzēsta sarakstes vēsture, jūsu dati, grozs un atgādinājumi visos saistītajos kanālos, un to nevar atsaukt. Apmaksātie pasūtījumi paliek grāmatvedībai bez jūsu vārda un kontaktiem.
erasure-kept = Nekas netika dzēsts.
erasure-done = Jūsu dati ir dzēsti. Apmaksātie pasūtījumi paliek grāmatvedībai bez jūsu vārda un kontaktiem. Ja rakstīsiet vēlreiz, sāksim no jauna.
choice-erase-confirm = Jā, dzēst
choice-erase-keep = Nē, paturēt
marketing-ask = Vai vēlaties laiku pa laikam saņemt ziņas par jauniem produktiem un piedāvājumiem? Jebkurā brīdī varat rakstīt "stop".
marketing-thanks = Paldies! Laiku pa laikam rakstīsim par jaunumiem un piedāvājumiem. Rakstiet "stop" jebkurā brīdī.
marketing-stopped = Sapratu, no mums vairs nebūs jaunumu un piedāvājumu.
marketing-message = { $text }
choice-marketing-yes = Jā, sūtiet piedāvājumus
choice-marketing-no = Nē, paldies
choice-stop-offers = Bez piedāvājumiem
