<?php
// A minimal PHP client of the platform (SoapClient, generated from the served WSDL): calls every operation of
// /soap/zapytania and /soap/konta once successfully and once with a fault, and prints one JSON line per call
// ({"operacja", "wynik": "OK"|"BLAD", "faultcode", "kod", "szczegoly": [[Rodzaj, Wartosc, Zbior], ...]}).
// Then a template operation of /soap/dokumenty (PobierzSzablon) as a user who is not a template editor: a typed fault.
// Usage: php klient.php ZAPYTANIA_WSDL KONTA_WSDL QUERY_LOGIN QUERY_PASSWORD ACCOUNT_LOGIN ACCOUNT_PASSWORD PESEL NEW_PASSWORD DOKUMENTY_WSDL

const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';

function security(string $login, string $password): SoapHeader {
    $xml = '<wsse:Security xmlns:wsse="' . WSSE . '"><wsse:UsernameToken>'
        . '<wsse:Username>' . htmlspecialchars($login) . '</wsse:Username>'
        . '<wsse:Password>' . htmlspecialchars($password) . '</wsse:Password>'
        . '</wsse:UsernameToken></wsse:Security>';
    return new SoapHeader(WSSE, 'Security', new SoapVar($xml, XSD_ANYXML), true);
}

function client(string $wsdl, ?array $credentials): SoapClient {
    $client = new SoapClient($wsdl, ['cache_wsdl' => WSDL_CACHE_NONE, 'exceptions' => true, 'trace' => true]);
    if ($credentials !== null) {
        $client->__setSoapHeaders([security($credentials[0], $credentials[1])]);
    }
    return $client;
}

function call(string $name, SoapClient $client, array $arguments, callable $summary): void {
    try {
        $answer = $client->__soapCall($name, [$arguments]);
        echo json_encode(['operacja' => $name, 'wynik' => 'OK', 'odpowiedz' => $summary($answer)], JSON_UNESCAPED_UNICODE), "\n";
    } catch (SoapFault $fault) {
        // SoapClient decodes the detail's Blad (Kod, Komunikat; each Szczegol as its text) but drops attributes:
        // the structured details (Rodzaj, Wartosc, Zbior) are read from the response itself.
        $blad = $fault->detail->Blad ?? null;
        $details = [];
        $response = new DOMDocument();
        $response->loadXML($client->__getLastResponse());
        $xpath = new DOMXPath($response);
        $xpath->registerNamespace('m', 'urn:pl:platforma-komunikacyjna:model:1');
        foreach ($xpath->query('//m:Blad/m:Szczegol') as $item) {
            $details[] = [$item->getAttribute('Rodzaj'), $item->getAttribute('Wartosc'),
                $item->hasAttribute('Zbior') ? $item->getAttribute('Zbior') : null];
        }
        echo json_encode(['operacja' => $name, 'wynik' => 'BLAD', 'faultcode' => $fault->faultcode,
            'kod' => $blad->Kod ?? null, 'szczegoly' => $details], JSON_UNESCAPED_UNICODE), "\n";
    }
}

[$_, $queriesWsdl, $accountsWsdl, $queryLogin, $queryPassword, $accountLogin, $accountPassword, $pesel, $newPassword, $documentsWsdl] = $argv;
$count = fn($answer) => count(is_array($answer->Zbiory->Zbior ?? null) ? $answer->Zbiory->Zbior : [$answer->Zbiory->Zbior]);
$query = fn(string $set) => ['Zapytanie' => [
    'IdentyfikatorBeneficjenta' => ['Pesel' => $pesel],
    'PodstawaPrawna' => 'URPSZ-2025',
    'Cel' => 'Test klienta PHP',
    'Zbiory' => ['Zbior' => [['Kod' => $set, 'Zakres' => ['Kategoria' => ['DANE_OSOBOWE']]]]],
]];

$queries = client($queriesWsdl, [$queryLogin, $queryPassword]);
$stranger = client($queriesWsdl, ['nieznany.uzytkownik', 'Nieznane-Haslo-1']);
call('ListaZbiorow', $queries, [], $count);
call('ListaZbiorow', $stranger, [], $count);
call('ListaPodstawPrawnych', $queries, [], fn($a) => count($a->PodstawyPrawne->PodstawaPrawna));
call('ListaPodstawPrawnych', $stranger, [], fn($a) => 0);
call('ZapytanieOBeneficjenta', $queries, $query('PUP'), fn($a) => $a->Odpowiedz->Wyniki->Wynik->Status);
call('ZapytanieOBeneficjenta', $queries, $query('ZUS'), fn($a) => null);

$accounts = client($accountsWsdl, [$accountLogin, $accountPassword]);
call('ZmianaHasla', $accounts, ['StareHaslo' => $accountPassword, 'NoweHaslo' => 'abc'], fn($a) => $a);
call('ZmianaHasla', $accounts, ['StareHaslo' => $accountPassword, 'NoweHaslo' => $newPassword], fn($a) => $a);
call('Wylogowanie', client($accountsWsdl, [$accountLogin, $newPassword]), [], fn($a) => $a);
call('Wylogowanie', client($accountsWsdl, null), [], fn($a) => $a);

$documents = client($documentsWsdl, [$queryLogin, $queryPassword]);
call('PobierzSzablon', $documents, ['RodzajDokumentu' => 'WNIOSEK_O_INFORMACJE', 'Wersja' => 1], fn($a) => $a->EksportSzablonu->SkrotSHA256);
