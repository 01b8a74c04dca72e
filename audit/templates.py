"""The PDF report's HTML template (Jinja2, rendered in a sandbox with autoescape; weasyprint makes the PDF).

Kept as a Python string so that it travels with the package without package-data configuration.
"""

from __future__ import annotations

PDF_TEMPLATE = """<!DOCTYPE html>
<html lang="pl">
<head>
<meta charset="utf-8">
<title>{{ title }}</title>
<style>
  @page { size: A4 landscape; margin: 14mm 12mm 16mm 12mm;
          @bottom-right { content: "strona " counter(page) " z " counter(pages); font-family: "DejaVu Sans", sans-serif;
                          font-size: 8pt; color: #555; } }
  body { font-family: "DejaVu Sans", sans-serif; font-size: 9pt; color: #111; }
  h1 { font-size: 15pt; margin: 0 0 2mm 0; }
  p.lead { margin: 0 0 4mm 0; }
  table.criteria td { padding: 0.5mm 4mm 0.5mm 0; }
  table.entries { width: 100%; border-collapse: collapse; margin-top: 4mm; }
  table.entries th, table.entries td { border: 0.3pt solid #888; padding: 1mm 1.5mm; vertical-align: top; }
  table.entries td.text { overflow-wrap: anywhere; }
  table.entries td.nr, table.entries td.time { white-space: nowrap; }
  table.entries th { background: #eee; text-align: left; }
  tr.refused td { color: #7a0000; }
  .note { margin-top: 5mm; font-size: 8pt; color: #333; }
</style>
</head>
<body>
<h1>{{ title }}</h1>
{% if kind == "OSOBA" %}
<p class="lead">Zestawienie odbiorców, którym za pośrednictwem platformy udostępniono dane osobowe osoby
o numerze PESEL <strong>{{ pesel }}</strong> (art. 15 ust. 1 lit. c RODO): kiedy, któremu urzędowi
i użytkownikowi, z jakiego zbioru, w jakim zakresie, na jakiej podstawie prawnej i w jakim celu.</p>
{% else %}
<p class="lead">Zestawienie z rejestru ujawnień platformy (wytyczna 6).</p>
{% endif %}
<table class="criteria">
  <tr><td>Wystawca:</td><td>{{ issuer }}</td></tr>
  <tr><td>Data sporządzenia:</td><td>{{ made }}</td></tr>
  <tr><td>Sporządził:</td><td>{{ requester }}</td></tr>
  {% if user %}<tr><td>Użytkownik:</td><td>{{ user }}</td></tr>{% endif %}
  {% if office %}<tr><td>Urząd:</td><td>{{ office }}</td></tr>{% endif %}
  <tr><td>Okres:</td><td>{% if since %}od {{ since }} {% endif %}{% if until %}do {{ until }}{% endif %}
      {% if not since and not until %}cały okres przechowywania rejestru{% endif %}</td></tr>
  <tr><td>Liczba wpisów:</td><td>{{ count }}</td></tr>
</table>
{% if rows %}
<table class="entries">
  <thead><tr>
    <th>Nr</th><th>Data i godzina</th><th>Odbiorca (urząd, użytkownik)</th><th>Zbiór i administrator</th>
    <th>Zakres danych</th><th>Podstawa prawna</th><th>Cel</th>{% if kind != "OSOBA" %}<th>PESEL</th>{% endif %}
    {% if with_refusals %}<th>Wynik</th>{% endif %}
  </tr></thead>
  <tbody>
  {% for row in rows %}
  <tr{% if row.refused %} class="refused"{% endif %}>
    <td class="nr">{{ row.nr }}</td><td class="time">{{ row.time }}</td>
    <td class="text">{{ row.office }}<br>{{ row.user }}</td>
    <td class="text">{{ row.data_set }}<br>{{ row.controller }}</td>
    <td>{% for title in row.categories %}{{ title }}{% if not loop.last %}<br>{% endif %}{% endfor %}</td>
    <td class="text">{{ row.legal_basis }}</td><td class="text">{{ row.purpose }}</td>
    {% if kind != "OSOBA" %}<td>{{ row.pesel }}</td>{% endif %}
    {% if with_refusals %}<td>{{ "odmowa" if row.refused else "udostępniono" }}</td>{% endif %}
  </tr>
  {% endfor %}
  </tbody>
</table>
{% else %}
<p><strong>W rejestrze nie ma wpisów spełniających te kryteria.</strong></p>
{% endif %}
<p class="note">Zestawienie sporządzono na podstawie rejestru ujawnień platformy komunikacyjnej. Rejestr jest
prowadzony jako łańcuch skrótów SHA-256 z okresowo podpisywanymi punktami kontrolnymi; numery wpisów
pozwalają porównać to zestawienie z rejestrem.</p>
</body>
</html>
"""
