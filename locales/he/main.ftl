# souk — customer-facing text, Hebrew (עברית). Every message id here is used by the conversation
# core (flows::TextKey); the locale test fails on a missing or unused id.
# Arguments: $shop, $name, $product, $variant, $category, $order and $contact are text;
# $price and $total are already formatted money; $items, $page, $pages, $count, $quantity,
# $max and $available are numbers.
# Style: the customer is addressed in the plural or with infinitives ("אפשר ל...", "נא ל..."),
# and the bot avoids gendered present-tense forms about itself. Plural categories: one, two, other.

welcome = היי! ברוכים הבאים לחנות { $shop }. כאן אפשר לראות את המוצרים שלנו, למלא עגלת קניות ולבצע הזמנה — הכול בשיחה הזאת. מה תרצו לעשות?
welcome-back = ברוכים השבים לחנות { $shop }! { $items ->
    [0] במה אפשר לעזור?
    [one] יש פריט אחד בעגלה.
    [two] יש שני פריטים בעגלה.
   *[other] יש { $items } פריטים בעגלה.
}
menu = מה תרצו לעשות?
help = אפשר ללחוץ על הכפתורים או פשוט לכתוב לי: שם של מוצר (למשל "ספל"), "עגלה", "תשלום", "תפריט", "שפה", או "נציג" כדי לדבר עם אדם. כתיבת מספר בוחרת את הפריט המתאים מהרשימה האחרונה שהצגתי.
human-requested = ביקשתי שמישהו מהצוות יצטרף לשיחה. בדרך כלל עונים כאן תוך { $minutes } דקות. בינתיים אפשר להמשיך לכתוב לי.
handoff-after-misses = סליחה, עדיין לא הבנתי. ביקשתי שמישהו מהצוות יצטרף; בדרך כלל עונים כאן תוך { $minutes } דקות.
knowledge-answer = { $text }
    (מקור: { $source })
handoff-unanswered-question = מצטערים, אני לא יודע את התשובה לזה. ביקשתי שמישהו מהצוות יצטרף; בדרך כלל עונים כאן תוך { $minutes } דקות.
handoff-after-payment-failures = התשלום לא עבר גם הפעם. ביקשתי שמישהו מהצוות יעזור; בדרך כלל עונים כאן תוך { $minutes } דקות.
handoff-offline = הצוות שלנו אינו זמין כרגע. אפשר להמשיך איתי, או להשאיר הודעה ונענה ברגע שנחזור.
handoff-still-waiting = ההודעה שלך נשמרה עבור הצוות. בדרך כלל עונים תוך { $minutes } דקות.
handoff-message-kept = תודה, ההודעה שלך נשמרה עבור הצוות.
handoff-nobody = מצטערים, אף אחד מהצוות אינו פנוי כרגע. אפשר להמשיך איתי, או להשאיר הודעה ונענה בהקדם האפשרי.
handoff-leave-message = אפשר לכתוב כאן את ההודעה; הצוות שלנו יענה בהקדם האפשרי.
operator-joined = { $operator } מהצוות שלנו כאן כדי לעזור.
operator-message = { $text }
bot-resumed = תודה על הסבלנות! אני שוב כאן כדי לעזור.
choice-continue-with-bot = להמשיך עם הבוט
choice-leave-message = להשאיר הודעה
cancelled = בסדר, בוטל. העגלה נשמרה.
language-choose = בחירת שפה:
language-set = מעכשיו אכתוב בשפה שנבחרה: { $language }.
not-understood = סליחה, לא הבנתי. אפשר ללחוץ על אחת מהאפשרויות האלה, או לכתוב "עזרה".
stale-choice = הכפתור הזה שייך לשלב קודם. הנה מה שאפשר לעשות עכשיו:
unsupported-message = כרגע אפשר לשלוח לי רק טקסט או ללחוץ על כפתורים. נא לכתוב את השאלה.
thanks-reply = בשמחה! עוד משהו?
categories = אלה הקטגוריות שלנו:
category-products = { $category } ({ $count ->
    [one] מוצר אחד
    [two] שני מוצרים
   *[other] { $count } מוצרים
}){ $pages ->
    [1] {""}
   *[other] {" "}· עמוד { $page } מתוך { $pages }
}
product-details = { $name } — { $price }
    { $description }
    אפשרויות זמינות: { $variants }
product-out-of-stock = סליחה, המוצר { $name } אזל מהמלאי כרגע.
search-results = { $count ->
    [one] מצאתי מוצר אחד מתאים:
    [two] מצאתי שני מוצרים מתאימים:
   *[other] מצאתי { $count } מוצרים מתאימים:
}
search-relaxed = שום דבר לא תאם את כל מה שביקשת. הכי קרובים ({ $count }):
results-page = עוד תוצאות (עמוד { $page } מתוך { $pages }):
search-no-match = לא מצאתי משהו כזה. אפשר לעיין בקטגוריות שלנו:
not-carried = מצטערים, אין לנו "{ $what }". הנה מה שאנחנו מוכרים:
not-carried-instead = מצטערים, אין לנו "{ $what }". הנה מה שיש לנו ב{ $category }:
not-carried-mentioned = אין לנו "{ $what }" בדיוק, אבל המוצרים האלה מזכירים את זה:
similar-products = דומים ל{ $product }:
similar-none = אין כרגע במלאי משהו דומה ל{ $product }. אולי קטגוריה אחרת?
pick-variant = איזו אפשרות של { $product } תרצו?
pick-quantity = כמה יחידות של { $product } ({ $variant })? בחרו או הקלידו מספר, עד { $max }.
quantity-invalid = נא לשלוח מספר מ-1 עד { $max }.
not-enough-stock = { $available ->
    [one] סליחה, נשארה במלאי רק עוד יחידה אחת.
    [two] סליחה, נשארו במלאי רק עוד שתי יחידות.
   *[other] סליחה, נשארו במלאי רק עוד { $available } יחידות.
}
added-to-cart = הוספתי לעגלה: { $quantity } × { $product } ({ $variant }). סך הכול בעגלה: { $total }.
cart-empty = העגלה ריקה.
cart-summary = העגלה ({ $items ->
    [one] פריט אחד
    [two] שני פריטים
   *[other] { $items } פריטים
}):
cart-cleared = העגלה ריקה עכשיו.
checkout-ask-name = בואו נבצע את ההזמנה. על איזה שם לרשום אותה?
checkout-name-invalid = נא לכתוב שם (אותיות בלבד, עד 80 תווים).
checkout-ask-contact = תודה, { $name }! באיזה מספר טלפון או כתובת אימייל אפשר ליצור קשר?
checkout-contact-invalid = זה לא נראה כמו מספר טלפון או כתובת אימייל. נא לנסות שוב, למשל +972 50 123 4567 או name@example.com.
checkout-confirm = נא לבדוק את ההזמנה:
checkout-ask-fulfilment = איך תרצו לקבל את ההזמנה?
checkout-ask-address = לאן לשלוח? נא לכתוב רחוב ומספר, עיר ומיקוד.
checkout-address-invalid = זו לא נראית כתובת מלאה. נא לכתוב רחוב ומספר, עיר ומיקוד, למשל: רחוב הרצל 5, תל אביב 6120101.
checkout-confirm-delivery = נא לבדוק את ההזמנה עבור { $name } ({ $contact }). משלוח אל: { $address }
checkout-confirm-pickup = נא לבדוק את ההזמנה עבור { $name } ({ $contact }). איסוף מ: { $point }
    שם: { $name }
    פרטי קשר: { $contact }
    סך הכול: { $total }
    לבצע את ההזמנה?
checkout-stock-changed = סליחה, המלאי השתנה בזמן הקנייה: { $products }. העגלה עודכנה בהתאם.
order-placed = ההזמנה { $order } בוצעה. סך הכול: { $total }. קישור התשלום בהכנה.
order-awaiting-payment = ההזמנה { $order } ({ $total }) ממתינה לתשלום. קישור התשלום נמצא בהודעה הקודמת.
payment-link = הנה קישור התשלום להזמנה { $order }:
order-paid = התשלום התקבל, תודה! ההזמנה { $order } אושרה. סה״כ שולם: { $total }.
order-paid-unlisted = התשלום התקבל, תודה! ההזמנה { $order } אושרה.
payment-failed = התשלום להזמנה { $order } לא עבר. הפריטים נשמרים עבורך: אפשר לנסות שוב עם קישור חדש, לשנות את ההזמנה או לדבר עם נציג.
payment-expired = קישור התשלום להזמנה { $order } פג לפני התשלום. הפריטים נשמרים: אפשר לקבל קישור חדש או לשנות את ההזמנה.
payment-unavailable = לא הצלחתי להכין כרגע קישור תשלום להזמנה { $order }. הפריטים נשמרים: אפשר לנסות שוב בעוד רגע או לדבר עם נציג.
payment-new-link = אני מכין קישור תשלום חדש להזמנה { $order }.
order-oversold = עוד דבר: { $products } אזל רגע לפני שהתשלום הגיע. החנות תיצור קשר לגבי החזר או החלפה.
order-fulfilled = חדשות טובות: ההזמנה { $order } ארוזה ומוכנה.
order-shipped = ההזמנה { $order } בדרך אליך!
order-delivered = ההזמנה { $order } נמסרה. תודה שקנית אצלנו!
order-cancelled = ההזמנה { $order } בוטלה. אם שילמת, ההחזר יגיע.
order-refund-needed = אנחנו מסדרים החזר כספי על ההזמנה { $order }. נכתוב שוב כשהכסף יישלח אליך בחזרה.
order-refunded = הכסף על ההזמנה { $order } הוחזר. ייתכן שיעברו כמה ימים עד שיופיע בחשבון.
order-status-line = הזמנה { $order } ({ $total }): { $status ->
        [pending_payment] ממתינה לתשלום
        [paid] שולמה, בהכנה
        [payment_failed] התשלום לא עבר
        [fulfilled] ארוזה ומוכנה
        [shipped] בדרך
        [delivered] נמסרה
        [cancelled] בוטלה
        [refund_needed] ההחזר בטיפול
        [refunded] הוחזרה
       *[other] …
    }
orders-none = אני עדיין לא רואה הזמנות שלך.
choice-browse = עיון במוצרים
choice-cart = צפייה בעגלה
choice-help = עזרה
choice-menu = תפריט
choice-human = שיחה עם נציג
choice-language = שפה
choice-details = פרטים
choice-add = הוספה לעגלה
choice-more = עוד
choice-back = חזרה
choice-checkout = לתשלום
choice-remove = הסרה
choice-clear = ריקון העגלה
choice-confirm = ביצוע הזמנה
choice-cancel = ביטול
choice-pay = תשלום עכשיו
choice-pay-again = לשלם שוב
choice-edit-order = שינוי ההזמנה
choice-track = מעקב משלוח
choice-orders = ההזמנות שלי
choice-similar = דומים
choice-delivery = משלוח
choice-pickup = איסוף: { $point }
choice-use-saved-address = משלוח אל { $address }
choice-use-saved = שימוש בפרטים: { $name }, { $contact }
choice-options = אפשרויות
pay-page-title = תשלום עבור הזמנה { $order }
pay-page-note = זהו דף תשלום לדוגמה: לא נגבה כסף.
pay-page-delivery = משלוח אל: { $address }
pay-page-pickup = איסוף מ: { $point }
pay-sold-out = מצטערים, { $products } אזל לפני שהתשלום עבר. לא חויבת.
pay-not-payable = לא ניתן עוד לשלם על הזמנה זו כאן. לא חויבת.
link-code-issued = קוד הקישור שלך הוא { $code }. שלח אותו מהצ'אט השני שלך (WhatsApp, Telegram, Messenger…) תוך { $minutes } דקות כדי להמשיך שם עם אותה עגלה ואותן הזמנות.
link-done = בוצע! הצ'אטים שלך מקושרים: אפשר להמשיך כאן או שם. בעגלה שלך { $items ->
    [one] פריט אחד
   *[other] { $items } פריטים
 }.
link-carts-differ = בוצע, הצ'אטים שלך מקושרים. בעגלה הזו { $items } פריטים ובעגלה של הצ'אט השני { $other }. לאחד אותן או להשאיר רק את זו?
link-code-unknown = קוד הקישור אינו תואם. בדוק אותו ושלח שוב.
link-code-expired = תוקף קוד הקישור פג. בקש קוד חדש עם "קישור חשבון" בצ'אט השני.
link-code-used = קוד הקישור כבר נוצל. בקש קוד חדש אם צריך.
link-same-customer = הצ'אט הזה כבר מקושר לזה שיצר את הקוד.
link-too-many-tries = יותר מדי קודים שגויים. המתן כמה דקות ונסה שוב.
link-phone-unknown = תודה! אף צ'אט אחר שלך עדיין לא משתמש במספר הזה.
link-code-sent = שלחתי קוד קישור לצ'אט הוואטסאפ שלך עם המספר הזה. שלח אותו כאן כדי לקשר ביניהם.
preferred-channel-set = בוצע: עדכונים על הזמנות ומשלוחים יגיעו לכאן, מכל מקום שתכתוב לנו.
choice-prefer-here = שלחו עדכונים לכאן
recovery-gentle = השארת { $items } פריטים בעגלה ({ $total }). הם מחכים לך מתי שתרצה. אפשר להזכיר לך שוב מאוחר יותר?
recovery-next-day = העגלה שלך עדיין מחכה: { $items } פריטים, { $total }. נסיים את ההזמנה?
recovery-last-call = תזכורת אחרונה: העגלה שלך ({ $items } פריטים, { $total }) עדיין שמורה. אחרי זה לא אכתוב עליה שוב.
recovery-stopped = הבנתי, לא עוד תזכורות על העגלה. היא נשארת שמורה אם תחזור.
recovery-consent-thanks = תודה! אשלח מדי פעם תזכורת קצרה כל עוד יש פריטים בעגלה.
choice-remind-me = כן, תזכירו לי
choice-stop-reminders = בלי תזכורות
choice-merge-carts = לאחד אותן
choice-keep-cart = להשאיר רק את העגלה הזו
pay-page-button = לתשלום { $total }
pay-page-decline = הדמיית כרטיס שנדחה
pay-page-paid = ההזמנה { $order } שולמה. אפשר לחזור לצ׳אט.
pay-page-closed = כבר אי אפשר לשלם כאן על ההזמנה הזו. חזרו לצ׳אט לקבלת קישור חדש.
pay-page-return = תודה. אפשר לסגור את הדף ולחזור לצ׳אט.
badge-out-of-stock = אזל מהמלאי
card-price-from = החל מ-{ $price }
cart-title = עגלת הקניות
order-title = ההזמנה שלך
cart-total = סך הכול
booking-services = מה תרצו להזמין?
booking-days = מתי תרצו להגיע ל{ $service }? בימים האלה יש שעות פנויות, או כתבו יום ושעה, למשל "מחר אחר הצהריים" או "ביום שישי ב-10".
booking-no-days = מצטערים, אין שעות פנויות ל{ $service } ב-{ $days } הימים הקרובים. מישהו מהצוות יוכל לעזור.
booking-times = שעות פנויות ל{ $service } ב-{ $day } (שעון { $zone }{ $theirs ->
        [none] {""}
       *[other] ; השעה אצלך, { $theirs }, בסוגריים
    }):
booking-no-times = אין שום דבר פנוי ב-{ $day } בשעה הזו. בימים האלה יש שעות פנויות:
booking-ask-name = אני שומר לכם את השעה לכמה דקות. על איזה שם לרשום את התור?
booking-ask-contact = תודה, { $name }. באיזה מספר טלפון (או דוא"ל) אפשר ליצור קשר?
booking-confirm = נא לבדוק: { $service } אצל { $staff }, { $when } ({ $minutes } דק'), עבור { $name } ({ $contact }). לקבוע?
booking-confirm-price = מחיר: { $price }.
booking-confirm-deposit = כדי לשמור את המועד משלמים מקדמה של { $deposit } בקישור מיד אחרי האישור; בלי תשלום התור יבוטל כשתוקף הקישור יפוג.
booking-done = נקבע! { $service } אצל { $staff }, { $when }. אזכיר לכם לפני. אפשר להזיז או לבטל כאן.
booking-moved = הוזז! { $service } אצל { $staff } כעת ב-{ $when }.
booking-taken = מצטערים, { $when } נתפס הרגע על ידי מישהו אחר.
booking-cancelled = התור ל{ $service }, { $when }, בוטל.
booking-cancel-ask = לבטל את התור ל{ $service }, { $when }?
booking-too-late = התור שלכם ב-{ $when }: אפשר לשנות בצ'אט עד { $hours } שעות לפני. מישהו מהצוות יוכל לעזור.
booking-reminder = תזכורת: { $service } אצל { $staff }, { $when }. תגיעו?
booking-attend-thanks = תודה! נתראה ב-{ $when }.
booking-item = { $service }, { $when }
booking-none = אין לכם תורים קרובים.
booking-gone = את התור הזה כבר אי אפשר לשנות.
choice-book = לקבוע תור
choice-bookings = התורים שלי
choice-reschedule = להזיז
choice-cancel-booking = לבטל את התור
choice-confirm-cancel-booking = כן, לבטל
choice-keep-booking = לא, להשאיר
choice-earlier-times = מוקדם יותר
choice-later-times = מאוחר יותר
choice-attend = אגיע
choice-other-days = ימים אחרים
day-label = { $day }
time-label = { $time }
link-calendar = הוספה ליומן
recovery-discount = תודה קטנה שחזרת: הקוד { $code } מוריד { $percent }% מהעגלה עד { $until }.
discount-applied = הקוד { $code } הופעל: { $percent }% הנחה. העגלה שלך עולה עכשיו { $total }.
discount-in-order = קוד { $code }: ‎−{ $percent }% (‎−{ $amount }).
discount-unknown = אני לא מכיר את הקוד הזה. קודים מגיעים עם התזכורות שלנו ופועלים רק בשיחה שאליה נשלחו.
discount-used = הקוד הזה כבר שומש להזמנה; כל קוד פועל פעם אחת.
discount-expired = מצטערים, תוקף הקוד פג.
choice-use-discount = להשתמש בקוד
booking-deposit = כדי לשמור את המועד, נא לשלם מקדמה של { $amount } בקישור שיגיע מיד. בלעדיה התור יבוטל כשתוקף הקישור יפוג.
booking-deposit-paid = המקדמה התקבלה: { $service }, { $when } שמור לך.
booking-deposit-expired = המקדמה עבור { $service }, { $when } לא שולמה בזמן, ולכן התור בוטל והמועד התפנה.
choice-confirm-booking = לקבוע
erasure-ask = למחוק את הנתונים שלך? יימחקו היסטוריית השיחה, הפרטים שלך, העגלה והתזכורות בכל הערוצים המקושרים, ואי אפשר לבטל זאת. הזמנות ששולמו נשמרות לצורכי הנהלת חשבונות, בלי שמך ופרטי הקשר שלך.
erasure-kept = לא נמחק דבר.
erasure-done = הנתונים שלך נמחקו. הזמנות ששולמו נשמרות לצורכי הנהלת חשבונות, בלי שמך ופרטי הקשר שלך. אם תכתבו שוב, נתחיל מחדש.
choice-erase-confirm = כן, למחוק
choice-erase-keep = לא, להשאיר
marketing-ask = רוצים לקבל מאיתנו מדי פעם עדכונים על מוצרים חדשים ומבצעים? אפשר לכתוב "הפסק" בכל עת.
marketing-thanks = תודה! נכתוב מדי פעם על חדשות ומבצעים. אפשר לכתוב "הפסק" בכל עת.
marketing-stopped = הבנתי, לא נשלח חדשות או מבצעים.
marketing-message = { $text }
choice-marketing-yes = כן, שלחו מבצעים
choice-marketing-no = לא, תודה
choice-stop-offers = בלי מבצעים
