"""The contracts' documentation in Polish: one `xs:documentation` for every type, element and attribute.

`hub.soap.contracts` writes these texts into the exported WSDL and XSD files, so generated clients (JAXB,
svcutil, zeep) and WSDL viewers show them; a test fails when a name has none. Texts are looked up by
type name, then by `Type/element` for an element whose meaning depends on where it stands, then by the
element's name; an element of one of our complex types falls back to that type's text. The sections of
the data sets are documented from `contract.catalog` (title, code, guideline item).
"""

from __future__ import annotations

from contract import catalog
from hub.soap.model import DATA_TYPES
from hub.soap.model.documents import DOCUMENTATION_ELEMENTS, DOCUMENTATION_TYPES

# -- types -------------------------------------------------------------------------------------------------------
# Keyed by the type's name; `<namespace part>:<name>` (e.g. `zasilanie:KodZbioru`) where two namespaces give one
# name to different types.
TYPES: dict[str, str] = {
    # the common model
    "Adres": "Adres osoby (wytyczne PUP 1.7): rodzaj, kod pocztowy, miejscowość, ulica, numer domu i lokalu. "
    "Kod pocztowy i numer domu są opcjonalne (model 1.1): adres pobytu osoby w kryzysie bezdomności lub adres "
    "za granicą może ich nie mieć.",
    "Adresy": "Adresy osoby, każdy ze swoim rodzajem.",
    "DaneOsobowe": "Dane osobowe (wytyczne PUP 1, OPS 1, SR 1.1 i 1.2): nazwisko, imiona, PESEL, data urodzenia, "
    "dokument tożsamości, płeć, stan cywilny, adresy.",
    "DokumentTozsamosci": "Dokument tożsamości (wytyczne PUP 1.4): rodzaj i numer.",
    "Pesel": "Numer PESEL: dokładnie 11 cyfr (cyfra kontrolna i data urodzenia sprawdzane przez platformę).",
    "KodPocztowy": "Polski kod pocztowy w postaci NN-NNN.",
    "Tekst": "Tekst do 500 znaków.",
    "TekstNiepusty": "Niepusty tekst do 500 znaków.",
    "Numer": "Numer (domu, lokalu, dokumentu): od 1 do 40 znaków, jak w systemie dziedzinowym.",
    "Kwota": "Kwota w złotych: do 12 cyfr, w tym 2 po przecinku (separator dziesiętny: kropka).",
    "RodzajAdresu": "Rodzaj adresu (lista zamknięta): ZAMELDOWANIA, ZAMIESZKANIA, KORESPONDENCYJNY, POBYTU_CZASOWEGO.",
    "RodzajDokumentu": "Rodzaj dokumentu tożsamości (lista zamknięta): DOWOD_OSOBISTY, PASZPORT, KARTA_POBYTU, INNY.",
    "Plec": "Płeć (lista zamknięta): K – kobieta, M – mężczyzna.",
    "StanCywilny": "Stan cywilny (lista zamknięta): PANNA_KAWALER, ZAMEZNA_ZONATY, ROZWIEDZIONA_ROZWIEDZIONY, "
    "WDOWA_WDOWIEC, SEPARACJA, NIEUSTALONY.",
    "StatusNaRynkuPracy": "Status na rynku pracy (lista zamknięta): BEZROBOTNY, POSZUKUJACY_PRACY.",
    "SposobZakonczeniaSzkolenia": "Sposób zakończenia szkolenia (lista zamknięta): UKONCZONE, PRZERWANE, W_TRAKCIE.",
    "RodzajZawodu": "Rodzaj zawodu (lista zamknięta): WYUCZONY, WYKONYWANY.",
    "StopienZnajomosciJezyka": "Stopień znajomości języka (lista zamknięta): BRAK, PODSTAWOWY, SREDNI, DOBRY, "
    "BARDZO_DOBRY.",
    "KodZawodu": "Kod zawodu według klasyfikacji zawodów i specjalności (KZiS): 6 cyfr.",
    "OkresRejestracji": "Okres rejestracji w PUP (wytyczne PUP 2.1) i, jeśli tak się zakończył, wykreślenie "
    "z rejestru.",
    "PrzyznaneSwiadczenie": "Świadczenie lub zasiłek przyznane przez PUP (wytyczne PUP 2.2): nazwa i okres.",
    "PobranyZasilek": "Zasiłek pobrany w PUP (wytyczne PUP 2.3): okres, kwota brutto i netto.",
    "InneSwiadczenie": "Inne świadczenie pobierane w PUP (wytyczne PUP 2.4): okres, kwota brutto i netto; nazwa "
    "opcjonalna.",
    "PropozycjaSzkolenia": "Szkolenie zaproponowane osobie (wytyczne PUP 3): data, czy przyjęte, czy odmowa była "
    "uzasadniona, szkolenie.",
    "SzkolenieOdbyte": "Szkolenie, na które osobę skierowano (wytyczne PUP 4): data skierowania, zakres, sposób "
    "zakończenia, daty rozpoczęcia i zakończenia.",
    "PropozycjaPracy": "Propozycja pracy (wytyczne PUP 5): data, czy przyjęta, czy odmowa była uzasadniona, "
    "stanowisko, rodzaj propozycji.",
    "Zawod": "Zawód wyuczony lub wykonywany (wytyczne PUP 6): nazwa, kod KZiS, rodzaj.",
    "JezykObcy": "Znajomość języka obcego (wytyczne PUP 6): mowa, pismo, czytanie.",
    "Wyksztalcenia": "Rodzaje wykształcenia osoby.",
    "Zawody": "Zawody osoby (wyuczone i wykonywane).",
    "Uprawnienia": "Uprawnienia zawodowe osoby.",
    "JezykiObce": "Języki obce, które osoba zna.",
    "Umiejetnosci": "Umiejętności osoby.",
    "Wizyta": "Wizyta w PUP (wytyczne PUP 7): rodzaj, miejsce, data planowana i faktyczna.",
    "Zatrudnienie": "Okres zatrudnienia (wytyczne PUP 8): rodzaj, okres, pracodawca, zawód, stanowisko.",
    "ZmianaStatusu": "Zmiana statusu osoby w PUP (wytyczne PUP 9): data, rodzaj, typ, opis.",
    "SwiadczenieOPS": "Świadczenie pomocy społecznej (wytyczne OPS 3): nazwa, okres, kwota brutto i netto.",
    "PrzyznaneSwiadczenieSR": "Świadczenie rodzinne przyznane decyzją (wytyczne SR 2): rodzaj, numer decyzji, "
    "okres, kwota.",
    "PrzyznaneSwiadczeniaSR": "Świadczenia rodzinne przyznane osobie (wytyczne SR 2).",
    "WyplataSR": "Wypłata świadczenia rodzinnego (wytyczne SR 3): rodzaj, data wypłaty, kwota.",
    # the fault
    "Blad": "Szczegóły błędu w elemencie detail każdego komunikatu soap:Fault: stały kod, komunikat po polsku, "
    "ustrukturyzowane szczegóły i identyfikator zapytania nadany przez platformę.",
    "Szczegol": "Jeden szczegół błędu: rodzaj (atrybut Rodzaj), wartość (Wartosc) i – gdy dotyczy – zbiór (Zbior). "
    "Treść elementu to ten sam szczegół w postaci z wersji 1.0 (np. ZBIOR:PUP, OPS:SWIADCZENIA), zachowana dla "
    "klientów tej wersji; nowe klienty czytają atrybuty.",
    "KodBledu": "Stały kod błędu (lista otwarta: nowe kody mogą dojść w kolejnych wersjach; pełna lista w "
    "docs/integration.md): wielkie litery, cyfry i podkreślenia.",
    "RodzajSzczegolu": "Rodzaj szczegółu błędu: ZBIOR (kod zbioru), KATEGORIA (kod kategorii zbioru wskazanego w "
    "atrybucie Zbior), PODSTAWA_PRAWNA (kod podstawy prawnej, z atrybutem Zbior, gdy dotyczy jednego zbioru), "
    "ROLA (wymagana rola), IDENTYFIKATOR_ZRODLOWY (identyfikator rekordu w systemie źródłowym), OPIS (opis "
    "słowny).",
    "WartoscSzczegolu": "Wartość szczegółu błędu (kod, identyfikator lub opis) do 500 znaków.",
    "model:KodZbioru": "Kod zbioru danych (lista otwarta, z konfiguracji platformy, np. PUP, OPS, SR).",
    "model:Komunikat": "Komunikat po polsku, zrozumiały dla urzędnika (do 1000 znaków).",
    "model:IdentyfikatorZapytania": "Identyfikator zapytania nadany przez platformę (podaj go, zgłaszając błąd).",
    "KategoriaPUP": "Kody kategorii danych zbioru PUP (lista zamknięta modelu 1; każda kategoria to jedna sekcja "
    "elementu DanePUP).",
    "KategoriaOPS": "Kody kategorii danych zbioru OPS (lista zamknięta modelu 1; każda kategoria to jedna sekcja "
    "elementu DaneOPS).",
    "KategoriaSR": "Kody kategorii danych zbioru SR (lista zamknięta modelu 1; każda kategoria to jedna sekcja "
    "elementu DaneSR).",
    # the query service
    "Zapytanie": "Zapytanie o jednego beneficjenta (wytyczne pkt 1.1): identyfikator osoby, podstawa prawna, cel, "
    "zbiory i zakres danych, opcjonalnie znak sprawy i identyfikator komunikatu klienta.",
    "ZapytanieOBeneficjenta": "Żądanie operacji ZapytanieOBeneficjenta.",
    "ZapytanieOBeneficjentaOdpowiedz": "Odpowiedź operacji ZapytanieOBeneficjenta.",
    "Odpowiedz": "Odpowiedź na zapytanie: identyfikator zapytania nadany przez platformę, czas odpowiedzi, wynik "
    "każdego zbioru oraz dowód wymiany (identyfikator komunikatu klienta i skrót SHA-256 zapytania).",
    "IdentyfikatorBeneficjenta": "Identyfikator osoby – jeden z: numer PESEL; nazwisko, imię i data urodzenia; "
    "rodzaj i numer dokumentu tożsamości. Identyfikator wskazujący w zbiorze więcej niż jedną osobę daje status "
    "NIEJEDNOZNACZNY.",
    "DokumentZapytania": "Dokument tożsamości wskazany w zapytaniu: rodzaj i numer.",
    "Zakres": "Kategorie danych żądane z jednego zbioru.",
    "Zbior": "Jeden zbiór danych, o który pyta zapytanie, z żądanym zakresem.",
    "Zbiory": "Zbiory danych, o które pyta zapytanie (od 1 do 16 pozycji; pozycja z Rodzaj obejmuje wszystkie "
    "zbiory tego rodzaju w zakresie uprawnień).",
    "WynikZbioru": "Wynik jednego zbioru: status i – gdy OK – dokładnie dozwolone sekcje danych ze skrótem SHA-256.",
    "Wyniki": "Wyniki zbiorów, po jednym na każdy zbiór z zapytania.",
    "StatusWyniku": "Status wyniku zbioru (lista zamknięta): OK – dane w odpowiedzi; BRAK_DANYCH – zbiór nie zna "
    "osoby; ODMOWA – źródło odmówiło; NIEDOSTEPNY – źródło nie odpowiedziało; NIEJEDNOZNACZNY – identyfikator "
    "wskazuje więcej niż jedną osobę (podaj PESEL lub dokument).",
    "zapytania:Kod": "Kod (zbioru, kategorii, podstawy prawnej, zapytania): od 1 do 64 znaków. Kody zbiorów i "
    "podstaw prawnych to listy otwarte (konfiguracja platformy: ListaZbiorow, ListaPodstawPrawnych); kody "
    "kategorii zbioru to listy zamknięte modelu (typy KategoriaPUP, KategoriaOPS, KategoriaSR).",
    "Nazwa": "Nazwa do 300 znaków.",
    "Opis": "Tekst do 1000 znaków.",
    "TekstIdentyfikatora": "Wartość identyfikatora osoby do 200 znaków; jej poprawność (np. cyfrę kontrolną PESEL) "
    "sprawdza platforma i zwraca precyzyjny kod błędu (NIEPRAWIDLOWY_PESEL, NIEPRAWIDLOWY_IDENTYFIKATOR).",
    "zapytania:SkrotSHA256": "Skrót SHA-256 (64 małe cyfry szesnastkowe) kanonicznej postaci elementu XML "
    "(Exclusive XML Canonicalization 1.0, http://www.w3.org/2001/10/xml-exc-c14n#).",
    "Login": "Login użytkownika platformy (od 1 do 120 znaków).",
    "UzytkownikKoncowy": "Nagłówek SOAP: użytkownik końcowy, w imieniu którego pyta system urzędu "
    "uwierzytelniony certyfikatem klienta TLS.",
    "ListaZbiorow": "Żądanie operacji ListaZbiorow (bez parametrów).",
    "ListaZbiorowOdpowiedz": "Odpowiedź operacji ListaZbiorow.",
    "DostepneZbiory": "Zbiory, o które może pytać użytkownik.",
    "KodTERYT": "Kod gminy w rejestrze TERYT (TERC): 7 cyfr (województwo, powiat, gmina, rodzaj gminy).",
    "ZbiorOpis": "Zbiór dostępny dla użytkownika: kod, nazwa, administrator, dozwolone kategorie i podstawy prawne.",
    "KategorieOpis": "Kategorie danych zbioru dozwolone dla użytkownika.",
    "KategoriaOpis": "Kategoria danych: kod i nazwa.",
    "KodyPodstaw": "Kody podstaw prawnych dozwolonych dla zbioru.",
    "ListaPodstawPrawnych": "Żądanie operacji ListaPodstawPrawnych (bez parametrów).",
    "ListaPodstawPrawnychOdpowiedz": "Odpowiedź operacji ListaPodstawPrawnych.",
    "RejestrPodstawPrawnych": "Rejestr podstaw prawnych skonfigurowany w platformie.",
    "PodstawaPrawnaOpis": "Podstawa prawna z rejestru: kod, nazwa, przepis, zbiory, do których uprawnia.",
    "KodyZbiorow": "Kody zbiorów danych.",
    "IdentyfikatorKomunikatu": "Identyfikator komunikatu nadany przez system klienta (od 1 do 128 znaków: litery "
    "ASCII, cyfry i znaki . _ : / + -), np. UUID.",
    "ZnakSprawy": "Znak sprawy, w której urząd pyta (np. OPS.8120.15.2025), do 100 znaków, bez znaków sterujących.",
    # the accounts service
    "Haslo": "Hasło (od 1 do 200 znaków).",
    "Potwierdzenie": "Potwierdzenie wykonania operacji po polsku.",
    "ZmianaHasla": "Żądanie operacji ZmianaHasla: dotychczasowe i nowe hasło.",
    "ZmianaHaslaOdpowiedz": "Odpowiedź operacji ZmianaHasla.",
    "Wylogowanie": "Żądanie operacji Wylogowanie (bez parametrów).",
    "WylogowanieOdpowiedz": "Odpowiedź operacji Wylogowanie.",
    # the audit service
    "ZamowienieRaportu": "Zamówienie raportu z rejestru ujawnień: o osobie (PESEL), użytkowniku, urzędzie lub "
    "okresie; okres jest prawostronnie otwarty [Od, Do).",
    "Raport": "Plik raportu: nazwa, typ MIME i treść (base64).",
    "RaportUjawnien": "Żądanie operacji RaportUjawnien.",
    "RaportUjawnienOdpowiedz": "Odpowiedź operacji RaportUjawnien.",
    "RodzajRaportu": "Rodzaj raportu (lista zamknięta): OSOBA (art. 15 RODO), UZYTKOWNIK, URZAD, OKRES.",
    "audyt:FormatRaportu": "Format raportu (lista zamknięta; wersja 1 małymi literami): xml, csv, pdf.",
    "audyt2:FormatRaportu": "Format raportu (lista zamknięta): XML, CSV, PDF.",
    "audyt:Kod": "Tekst do 120 znaków (PESEL, login, kod urzędu, nazwa pliku, typ MIME); w wersji 2 każde pole ma "
    "własny typ.",
    "KodUrzedu": "Kod urzędu w konfiguracji platformy (lista otwarta), od 1 do 32 znaków.",
    "NazwaPliku": "Proponowana nazwa pliku raportu.",
    "TypMIME": "Typ MIME pliku raportu (lista zamknięta): application/xml, text/csv, application/pdf.",
    # the feed service
    "Paczka": "Paczka rekordów jednego zbioru od modułu zasilającego: zasilenie pełne (w jednej lub wielu paczkach "
    "jednego przebiegu) albo zmiany od znacznika.",
    "Rekord": "Jedna osoba tak, jak zna ją system dziedzinowy: identyfikator źródłowy i sekcje zbioru.",
    "Pokwitowanie": "Pokwitowanie zastosowanej paczki: liczby rekordów, odrzucenia, skrót SHA-256 tego, co "
    "zastosowano, znacznik.",
    "Odrzucenie": "Rekord, którego nie zastosowano: identyfikator źródłowy i powód.",
    "Odrzucone": "Rekordy paczki, których nie zastosowano.",
    "StanRepliki": "Stan repliki zbioru, od którego moduł zasilający wznawia pracę (bez strat i powtórzeń).",
    "ZasilenieOtwarte": "Zasilenie pełne w toku, jeszcze nieopublikowane: przebieg, numer ostatniej paczki, znacznik.",
    "StanZasilania": "Żądanie operacji StanZasilania: kod zbioru.",
    "StanZasilaniaOdpowiedz": "Odpowiedź operacji StanZasilania.",
    "RodzajPaczki": "Rodzaj paczki (lista zamknięta): PELNA – pełny stan zbioru; PRZYROSTOWA – zmiany od znacznika.",
    "Identyfikator": "Identyfikator nadany przez moduł zasilający (rekordu, paczki, przebiegu): od 1 do 64 znaków.",
    "zasilanie:KodZbioru": "Kod zbioru danych (lista otwarta, z konfiguracji platformy), od 1 do 32 znaków.",
    "Znacznik": "Pozycja modułu zasilającego (okno zmian i ostatni wysłany klucz), nieprzezroczysta dla platformy; "
    "do 200 znaków.",
    "NumerPaczki": "Numer kolejny paczki w przebiegu zasilenia pełnego, od 1.",
    "Liczba": "Liczba nieujemna.",
    "zasilanie:SkrotSHA256": "Skrót SHA-256 (64 małe cyfry szesnastkowe).",
    "Powod": "Powód po polsku, do 500 znaków.",
}

# -- elements and attributes ---------------------------------------------------------------------------------------
# Keyed by `Type/element` where the meaning depends on the enclosing type, else by the element's name.
ELEMENTS: dict[str, str] = {
    # the common model
    "Nazwisko": "Nazwisko.",
    "Imie": "Pierwsze imię.",
    "DrugieImie": "Drugie imię.",
    "Pesel": "Numer PESEL osoby.",
    "DataUrodzenia": "Data urodzenia (RRRR-MM-DD).",
    "Plec": "Płeć.",
    "StanCywilny": "Stan cywilny.",
    "Adresy": "Adresy osoby.",
    "RodzajAdresu": "Rodzaj adresu.",
    "KodPocztowy": "Kod pocztowy (opcjonalny od modelu 1.1).",
    "Miejscowosc": "Miejscowość.",
    "Ulica": "Ulica.",
    "NrDomu": "Numer domu (opcjonalny od modelu 1.1).",
    "NrLokalu": "Numer lokalu.",
    "DokumentTozsamosci/Rodzaj": "Rodzaj dokumentu tożsamości.",
    "DokumentTozsamosci/Numer": "Numer dokumentu tożsamości (dowód osobisty: trzy litery i sześć cyfr).",
    "DataOd": "Początek okresu (RRRR-MM-DD).",
    "DataDo": "Koniec okresu (RRRR-MM-DD); brak – okres trwa.",
    "KwotaBrutto": "Kwota brutto w złotych.",
    "KwotaNetto": "Kwota netto w złotych.",
    "Kwota": "Kwota w złotych.",
    "Nazwa": "Nazwa.",
    "OkresRejestracji/Status": "Status na rynku pracy w okresie rejestracji.",
    "DataWykreslenia": "Data wykreślenia z rejestru.",
    "PrzyczynaWykreslenia": "Przyczyna wykreślenia z rejestru.",
    "DataPrzedlozenia": "Data przedłożenia propozycji.",
    "CzyPrzyjeta": "Czy osoba przyjęła propozycję.",
    "CzyOdmowaUzasadniona": "Czy odmowa przyjęcia propozycji była uzasadniona (gdy osoba odmówiła).",
    "Szkolenie": "Proponowane szkolenie.",
    "DataSkierowania": "Data skierowania na szkolenie.",
    "ZakresTematyczny": "Zakres tematyczny szkolenia.",
    "SposobZakonczenia": "Sposób zakończenia szkolenia.",
    "DataRozpoczecia": "Data rozpoczęcia szkolenia.",
    "DataZakonczenia": "Data zakończenia szkolenia.",
    "Stanowisko": "Stanowisko.",
    "RodzajPropozycji": "Rodzaj propozycji pracy.",
    "KodZawodu": "Kod zawodu (KZiS).",
    "Zawod/Rodzaj": "Rodzaj zawodu: wyuczony lub wykonywany.",
    "Zatrudnienie/Zawod": "Zawód wykonywany w tym zatrudnieniu.",
    "Mowa": "Znajomość języka w mowie.",
    "Pismo": "Znajomość języka w piśmie.",
    "Czytanie": "Znajomość języka w czytaniu.",
    "RodzajWyksztalcenia": "Rodzaj wykształcenia.",
    "Uprawnienie": "Uprawnienie zawodowe.",
    "Umiejetnosc": "Umiejętność.",
    "RodzajWizyty": "Rodzaj wizyty.",
    "Miejsce": "Miejsce wizyty.",
    "DataPlanowana": "Planowana data wizyty.",
    "DataFaktyczna": "Faktyczna data wizyty (brak – wizyta się nie odbyła).",
    "RodzajZatrudnienia": "Rodzaj zatrudnienia.",
    "Pracodawca": "Pracodawca.",
    "DataZmiany": "Data zmiany statusu.",
    "ZmianaStatusu/Rodzaj": "Rodzaj zmiany statusu.",
    "Typ": "Typ zmiany statusu.",
    "ZmianaStatusu/Opis": "Opis zmiany statusu.",
    "CzyZarejestrowana": "Czy osoba jest zarejestrowana w jednostce.",
    "StatusWJednostce": "Status osoby w jednostce.",
    "Dziecko": "Dane dziecka, na które przyznano świadczenie.",
    "PrzyznaneSwiadczenieSR/Rodzaj": "Rodzaj świadczenia rodzinnego.",
    "NumerDecyzji": "Numer decyzji przyznającej świadczenie.",
    "WyplataSR/Rodzaj": "Rodzaj wypłaconego świadczenia.",
    "DataWyplaty": "Data wypłaty.",
    # the fault
    "Blad/Kod": "Stały kod błędu (np. BRAK_UPRAWNIEN).",
    "Blad/Komunikat": "Komunikat po polsku (ten sam co faultstring).",
    "Blad/Szczegol": "Szczegół błędu (np. każdy element zapytania, którego nie dopuszczono).",
    "Blad/IdentyfikatorZapytania": "Identyfikator zapytania nadany przez platformę, gdy go nadano.",
    "Szczegol/Rodzaj": "Rodzaj szczegółu.",
    "Szczegol/Wartosc": "Wartość szczegółu: kod zbioru, kategorii, podstawy prawnej, roli, identyfikator lub opis.",
    "Szczegol/Zbior": "Zbiór, którego dotyczy szczegół (kategoria, podstawa prawna dla jednego zbioru).",
    # the query service
    "ZapytanieOBeneficjenta/Zapytanie": "Zapytanie.",
    "ZapytanieOBeneficjentaOdpowiedz/Odpowiedz": "Odpowiedź.",
    "IdentyfikatorBeneficjenta": "Identyfikator osoby, o którą pyta zapytanie.",
    "IdentyfikatorBeneficjenta/Pesel": "Numer PESEL osoby (11 cyfr; sprawdzany przez platformę).",
    "IdentyfikatorBeneficjenta/Nazwisko": "Nazwisko osoby (razem z imieniem i datą urodzenia).",
    "IdentyfikatorBeneficjenta/Imie": "Imię osoby (razem z nazwiskiem i datą urodzenia).",
    "IdentyfikatorBeneficjenta/DataUrodzenia": "Data urodzenia osoby (razem z nazwiskiem i imieniem), RRRR-MM-DD.",
    "IdentyfikatorBeneficjenta/DokumentTozsamosci": "Dokument tożsamości osoby.",
    "DokumentZapytania/Rodzaj": "Rodzaj dokumentu tożsamości.",
    "DokumentZapytania/Numer": "Numer dokumentu (dowód osobisty: trzy litery i sześć cyfr z poprawną cyfrą "
    "kontrolną; sprawdzany przez platformę).",
    "Zapytanie/PodstawaPrawna": "Kod podstawy prawnej z rejestru platformy (lista otwarta: ListaPodstawPrawnych).",
    "Cel": "Cel pozyskania danych (niepusty), zapisywany w rejestrze ujawnień.",
    "Zapytanie/Zbiory": "Zbiory danych i zakres danych z każdego z nich.",
    "Zbiory/Zbior": "Zbiór danych i zakres danych z niego.",
    "Zbior/Kod": "Kod zbioru danych (lista otwarta: ListaZbiorow); zamiast niego można podać Rodzaj.",
    "Zbior/Rodzaj": "Rodzaj zbioru (np. OPS, SR) zamiast kodu: platforma pyta każdy zbiór tego rodzaju w zakresie "
    "uprawnień użytkownika i zwraca osobny wynik każdego (wersja 1.2).",
    "Zakres": "Kategorie danych żądane ze zbioru.",
    "Zakres/Kategoria": "Kod kategorii danych zbioru (dla PUP, OPS i SR wartości typów KategoriaPUP, KategoriaOPS, "
    "KategoriaSR); zapytanie o więcej niż dozwolone jest odrzucane w całości.",
    "ZnakSprawy": "Znak sprawy, w której urząd pyta; zapisywany w rejestrze ujawnień (od wersji 1.1).",
    "IdentyfikatorKomunikatuKlienta": "Identyfikator komunikatu nadany przez system klienta; odpowiedź go powtarza, "
    "a rejestr ujawnień zapisuje (od wersji 1.1).",
    "Odpowiedz/IdentyfikatorZapytania": "Identyfikator zapytania nadany przez platformę (ten sam w rejestrze "
    "ujawnień).",
    "DataOdpowiedzi": "Czas odpowiedzi (UTC).",
    "Wyniki": "Wyniki zbiorów.",
    "Wynik": "Wynik jednego zbioru.",
    "WynikZbioru/Zbior": "Kod zbioru.",
    "Administrator": "Administrator danych zbioru (urząd).",
    "WynikZbioru/Status": "Status wyniku.",
    "WynikZbioru/Komunikat": "Wyjaśnienie statusu po polsku (gdy nie OK).",
    "WynikZbioru/SkrotSHA256": "Skrót SHA-256 elementu Dane* tego wyniku (Exclusive XML Canonicalization 1.0), "
    "ten sam co w rejestrze ujawnień.",
    "DanePUP": "Dane zbioru PUP: tylko dozwolone i żądane sekcje, w kolejności modelu.",
    "DaneOPS": "Dane zbioru OPS: tylko dozwolone i żądane sekcje, w kolejności modelu.",
    "DaneSR": "Dane zbioru SR: tylko dozwolone i żądane sekcje, w kolejności modelu.",
    "SkrotZapytania": "Skrót SHA-256 elementu ZapytanieOBeneficjenta z treści (soap:Body) zapytania, na które "
    "odpowiada ta odpowiedź, w postaci Exclusive XML Canonicalization 1.0 (od wersji 1.1).",
    "Login": "Login użytkownika końcowego.",
    "ListaZbiorowOdpowiedz/Zbiory": "Zbiory dostępne dla użytkownika.",
    "DostepneZbiory/Zbior": "Zbiór dostępny dla użytkownika.",
    "ZbiorOpis/Kod": "Kod zbioru.",
    "ZbiorOpis/Rodzaj": "Rodzaj zbioru (PUP, OPS, SR, …): wartość Zbior/Rodzaj zapytania o wszystkie zbiory rodzaju.",
    "ZbiorOpis/Gmina": "Kod TERYT (TERC) gminy, której jednostką jest administrator zbioru (brak dla urzędów powiatu).",
    "ZbiorOpis/NazwaGminy": "Nazwa gminy, której jednostką jest administrator zbioru.",
    "ZbiorOpis/Nazwa": "Nazwa rodzaju zbioru.",
    "Kategorie": "Kategorie danych dozwolone dla użytkownika.",
    "KategorieOpis/Kategoria": "Kategoria danych.",
    "KategoriaOpis/Kod": "Kod kategorii.",
    "KategoriaOpis/Nazwa": "Nazwa kategorii.",
    "ZbiorOpis/PodstawyPrawne": "Podstawy prawne, na które użytkownik może się powołać, pytając o ten zbiór.",
    "KodyPodstaw/PodstawaPrawna": "Kod podstawy prawnej.",
    "ListaPodstawPrawnychOdpowiedz/PodstawyPrawne": "Rejestr podstaw prawnych.",
    "RejestrPodstawPrawnych/PodstawaPrawna": "Podstawa prawna.",
    "PodstawaPrawnaOpis/Kod": "Kod podstawy prawnej.",
    "PodstawaPrawnaOpis/Nazwa": "Nazwa podstawy prawnej.",
    "Przepis": "Przepis (artykuł i akt, z publikatorem).",
    "PodstawaPrawnaOpis/Zbiory": "Zbiory, do których podstawa uprawnia.",
    "KodyZbiorow/Zbior": "Kod zbioru.",
    # the accounts service
    "StareHaslo": "Dotychczasowe hasło.",
    "NoweHaslo": "Nowe hasło (co najmniej tak długie i trudne, jak wymaga konfiguracja platformy).",
    "Potwierdzenie": "Potwierdzenie po polsku.",
    # the audit service
    "Zamowienie": "Zamówienie raportu.",
    "ZamowienieRaportu/Rodzaj": "Rodzaj raportu.",
    "ZamowienieRaportu/Pesel": "PESEL osoby (raport OSOBA).",
    "Uzytkownik": "Login użytkownika (raport UZYTKOWNIK).",
    "Urzad": "Kod urzędu (raport URZAD).",
    "Od": "Początek okresu (włącznie).",
    "Do": "Koniec okresu (wyłącznie).",
    "Format": "Format pliku raportu.",
    "Raport": "Plik raportu.",
    "NazwaPliku": "Proponowana nazwa pliku.",
    "TypMIME": "Typ MIME pliku.",
    "Tresc": "Treść pliku (base64).",
    # the feed service
    "Paczka/Zbior": "Kod zbioru, którego dotyczy paczka (zbiór urzędu wywołującego).",
    "Paczka/Rodzaj": "Rodzaj paczki.",
    "IdPaczki": "Identyfikator paczki nadany przez moduł zasilający.",
    "Utworzono": "Czas utworzenia paczki.",
    "IdZasilenia": "Identyfikator przebiegu zasilenia pełnego (wiele paczek).",
    "NumerPaczki": "Numer paczki w przebiegu zasilenia pełnego, od 1.",
    "Znacznik": "Pozycja modułu zasilającego osiągnięta tą paczką.",
    "Koniec": "Ostatnia paczka przebiegu: po jej zastosowaniu stan pełny staje się widoczny.",
    "Rekord": "Rekord jednej osoby.",
    "IdZrodlowy": "Identyfikator osoby w systemie źródłowym.",
    "Usuniety": "Osoba usunięta lub wykreślona w systemie źródłowym (paczki przyrostowe).",
    "Pokwitowanie/Zbior": "Kod zbioru.",
    "Pokwitowanie/Rodzaj": "Rodzaj paczki.",
    "Przeczytano": "Liczba przeczytanych rekordów.",
    "Zastosowano": "Liczba zastosowanych rekordów.",
    "Usunieto": "Liczba usuniętych osób.",
    "Odrzucono": "Liczba odrzuconych rekordów.",
    "Odrzucone": "Odrzucone rekordy z powodami.",
    "Odrzucenie": "Odrzucony rekord.",
    "Powod": "Powód odrzucenia.",
    "Pokwitowanie/SkrotSHA256": "Skrót SHA-256 zastosowanych rekordów.",
    "Powtorzona": "Paczka była już zastosowana (powtórzenie niczego nie zmieniło).",
    "Opublikowano": "Stan pełny został opublikowany (widoczny dla zapytań).",
    "StanZasilania/Zbior": "Kod zbioru.",
    "StanZasilaniaOdpowiedz/Stan": "Stan repliki zbioru.",
    "StanRepliki/Zbior": "Kod zbioru.",
    "LiczbaOsob": "Liczba osób w replice.",
    "ZasilenieOtwarte": "Zasilenie pełne w toku (jeśli jest).",
}


def _sections() -> tuple[dict[str, str], dict[str, str]]:
    """(texts by type name, texts by `Type/element`) of the data sets' sections, from the catalog."""
    types: dict[str, str] = {}
    elements: dict[str, str] = {}
    for code, data_type in DATA_TYPES.items():
        kind = catalog.kind(code)
        assert kind is not None
        types[data_type.get_type_name()] = (
            f"Dane zbioru {kind.code} ({kind.title}): sekcje, po jednej na kategorię danych, w kolejności modelu."
        )
        for category in kind.categories:
            text = f"{category.title} (kategoria {category.code}, wytyczne {category.guideline})."
            elements[f"{data_type.get_type_name()}/{category.element}"] = text
            types.setdefault(data_type._type_info[category.element].get_type_name(), text)
    return types, elements


SECTION_TYPES, SECTION_ELEMENTS = _sections()
TYPES.update(DOCUMENTATION_TYPES)  # the documents service's names (issue 15)
ELEMENTS.update(DOCUMENTATION_ELEMENTS)


def type_text(namespace: str, name: str) -> str | None:
    """The text of a type (`namespace`: the namespace's key, e.g. `model`, `audyt2`)."""
    return TYPES.get(f"{namespace}:{name}") or TYPES.get(name) or SECTION_TYPES.get(name)


def element_text(parent: str, name: str) -> str | None:
    """The text of an element or attribute of the complex type `parent`, if the tables have one."""
    key = f"{parent}/{name}"
    return ELEMENTS.get(key) or SECTION_ELEMENTS.get(key) or ELEMENTS.get(name)
