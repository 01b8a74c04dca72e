// A minimal node-soap client of the platform, generated from the served WSDL: calls every operation of
// /soap/zapytania and /soap/konta once successfully and once with a fault, and prints one JSON line per call
// ({"operacja", "wynik": "OK"|"BLAD", "faultcode", "kod", "szczegoly": [[Rodzaj, Wartosc, Zbior], ...]}).
// Then a template operation of /soap/dokumenty (PobierzSzablon) as a user who is not a template editor: a typed fault.
// Usage: node klient.js ZAPYTANIA_WSDL KONTA_WSDL QUERY_LOGIN QUERY_PASSWORD ACCOUNT_LOGIN ACCOUNT_PASSWORD PESEL NEW_PASSWORD DOKUMENTY_WSDL
'use strict';
const soap = require('soap');

const [queriesWsdl, accountsWsdl, queryLogin, queryPassword, accountLogin, accountPassword, pesel, newPassword, documentsWsdl] =
  process.argv.slice(2);

async function client(wsdl, credentials) {
  const made = await soap.createClientAsync(wsdl);
  if (credentials) {
    made.setSecurity(new soap.WSSecurity(credentials[0], credentials[1], { passwordType: 'PasswordText', hasTimeStamp: false }));
  }
  return made;
}

function asList(value) {
  return value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];
}

async function call(name, made, args, summary) {
  try {
    const [answer] = await made[name + 'Async'](args);
    console.log(JSON.stringify({ operacja: name, wynik: 'OK', odpowiedz: summary(answer) }));
  } catch (error) {
    const fault = error.root && error.root.Envelope.Body.Fault;
    if (!fault) throw error;
    const blad = fault.detail && fault.detail.Blad;
    const details = asList(blad && blad.Szczegol).map((d) => [d.attributes.Rodzaj, d.attributes.Wartosc, d.attributes.Zbior || null]);
    console.log(JSON.stringify({ operacja: name, wynik: 'BLAD', faultcode: fault.faultcode, kod: blad && blad.Kod, szczegoly: details }));
  }
}

function query(set) {
  return {
    Zapytanie: {
      IdentyfikatorBeneficjenta: { Pesel: pesel },
      PodstawaPrawna: 'URPSZ-2025',
      Cel: 'Test klienta node-soap',
      Zbiory: { Zbior: [{ Kod: set, Zakres: { Kategoria: ['DANE_OSOBOWE'] } }] },
    },
  };
}

(async () => {
  const queries = await client(queriesWsdl, [queryLogin, queryPassword]);
  const stranger = await client(queriesWsdl, ['nieznany.uzytkownik', 'Nieznane-Haslo-1']);
  await call('ListaZbiorow', queries, {}, (a) => asList(a.Zbiory.Zbior).length);
  await call('ListaZbiorow', stranger, {}, () => 0);
  await call('ListaPodstawPrawnych', queries, {}, (a) => asList(a.PodstawyPrawne.PodstawaPrawna).length);
  await call('ListaPodstawPrawnych', stranger, {}, () => 0);
  await call('ZapytanieOBeneficjenta', queries, query('PUP'), (a) => asList(a.Odpowiedz.Wyniki.Wynik)[0].Status);
  await call('ZapytanieOBeneficjenta', queries, query('ZUS'), () => null);
  const accounts = await client(accountsWsdl, [accountLogin, accountPassword]);
  await call('ZmianaHasla', accounts, { StareHaslo: accountPassword, NoweHaslo: 'abc' }, (a) => a);
  await call('ZmianaHasla', accounts, { StareHaslo: accountPassword, NoweHaslo: newPassword }, (a) => a);
  await call('Wylogowanie', await client(accountsWsdl, [accountLogin, newPassword]), {}, (a) => a);
  await call('Wylogowanie', await client(accountsWsdl, null), {}, (a) => a);
  const documents = await client(documentsWsdl, [queryLogin, queryPassword]);
  await call('PobierzSzablon', documents, { RodzajDokumentu: 'WNIOSEK_O_INFORMACJE', Wersja: 1 }, (a) => a.EksportSzablonu.SkrotSHA256);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
