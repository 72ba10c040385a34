# Răspunsuri rapide pentru operatori (română). Substituții: { $name }, { $order }.
greeting = Bună, { $name }, mulțumim că ați așteptat! Sunt aici acum. Cu ce vă pot ajuta?
    .title = Salut
order-status = Am verificat comanda { $order }: este pe drum și primiți aici linkul de urmărire imediat ce curierul o scanează.
    .title = Comanda e pe drum
delivery-time = Comenzile plasate până la 14:00 într-o zi lucrătoare pleacă în aceeași zi; livrarea durează de obicei 1–3 zile lucrătoare.
    .title = Termene de livrare
goodbye = Mă bucur că v-am putut ajuta, { $name }! Asistentul virtual e din nou aici dacă mai aveți nevoie de ceva.
    .title = La revedere
