"""Synthetic PII sentences in English, German, French and Spanish, from two separate sources.

The shared PII data (``../shared/data/pii``) is one English source. Names in the
other languages, and an evaluation on a source the head never saw, come from
templates and lists written for Assay (facts: common first names, surnames,
cities, street patterns, companies). Two sources are kept apart:

- ``train``: :data:`TRAIN` templates and lists, used to fit the token head;
- ``unseen``: :data:`UNSEEN` templates and lists — other wording (chat requests,
  e-mails, forms), other names, places, companies and date formats — used only to
  evaluate (``training/pii_head.py``, ``bench/validators.py``).

Their lists of names, places and companies do not intersect
(:func:`check_disjoint`), so a good score on ``unseen`` is not recall of a list.
Spans follow the shared data's conventions: a title (``Dr.``, ``Frau``) or a job title
is TITLE, apart from the PERSON it precedes; AGE is the number alone.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LANGS = ("en", "de", "fr", "es")
_SLOT = re.compile(r"\{([A-Z]+)\}")
#: Slot name -> entity label (FIRST is a first name alone, still a PERSON).
_ENTITY = {"PERSON": "PERSON", "FIRST": "PERSON", "LAST": "PERSON", "LOCATION": "LOCATION",
           "ADDRESS": "ADDRESS", "ORG": "ORGANIZATION", "DATE": "DATE_TIME", "AGE": "AGE",
           "TITLE": "TITLE", "JOB": "TITLE", "NRP": "NRP"}


def _names(words: str) -> list[str]:
    """A list written as one space-separated string (easier to read and to extend)."""
    return words.split(" ")


@dataclass(frozen=True)
class Lists:
    """The facts one source fills its templates with, per language."""

    first: Mapping[str, Sequence[str]]
    last: Mapping[str, Sequence[str]]
    places: Mapping[str, Sequence[str]]
    streets: Mapping[str, Sequence[str]]  # patterns with {n} (house number) and {s} (name)
    street_names: Mapping[str, Sequence[str]]
    orgs: Sequence[str]
    dates: Mapping[str, Sequence[str]]  # patterns with {d} {m} {y} {mon} {hh} {mm}
    months: Mapping[str, Sequence[str]]
    titles: Mapping[str, Sequence[str]]
    jobs: Mapping[str, Sequence[str]]
    nrp: Mapping[str, Sequence[str]]


_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
           "Oktober", "November", "Dezember"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "octubre", "noviembre", "diciembre"),
}

TRAIN_LISTS = Lists(
    first={
        "en": _names("James Mary Robert Patricia Michael Jennifer William Linda David Elizabeth "
                     "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Nancy "
                     "Matthew Lisa Anthony Betty Mark Sandra Steven Ashley Andrew Donna Kevin "
                     "Michelle Brian Carol George Amanda Edward Melissa Priya Wei Ahmed Fatima "
                     "Ethan Chloe Nathan Hannah Samuel Olivia Benjamin Sophia Lucas Abigail "
                     "Henry Victoria Adrian Natalie Dominic Rebecca Julian Megan Gabriel Rachel"),
        "de": _names("Lukas Anna Jonas Lena Felix Laura Maximilian Julia Paul Sophie Leon Marie "
                     "Tobias Katharina Florian Sabine Jürgen Ursula Wolfgang Monika Stefan Petra "
                     "Andreas Claudia Matthias Birgit Uwe Karin Mehmet Ayşe Friedrich Hildegard "
                     "Gerhard Renate Horst Ingrid Klaus Brigitte Manfred Gisela Bernd Elke Dirk "
                     "Silke Jens Anke Sven Katrin Torsten Dörte"),
        "fr": _names("Jean Marie Pierre Nathalie Michel Isabelle Philippe Sylvie Alain Catherine "
                     "Nicolas Sophie Julien Camille Antoine Élodie François Céline Mathieu "
                     "Aurélie Sébastien Hélène Karim Nadia Guillaume Amélie Thibault Manon "
                     "Baptiste Léa Arnaud Chloé Vincent Océane Romain Justine Cédric Pauline "
                     "Benoît Mélanie Quentin Inès Damien Noémie"),
        "es": _names("José María Antonio Carmen Manuel Ana Francisco Laura David Isabel Javier "
                     "Lucía Carlos Marta Miguel Elena Alejandro Paula Pablo Cristina Sergio "
                     "Raquel Jorge Pilar Andrés Lorena Rubén Silvia Raúl Noelia Víctor Patricia "
                     "Adrián Beatriz Óscar Nuria Emilio Sonia Ramón Alicia Tomás Yolanda Héctor "
                     "Marina"),
    },
    last={
        "en": _names("Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor "
                     "Moore Jackson Thompson White Harris Clark Lewis Robinson Walker Young "
                     "Allen King Wright Scott Hill Green Adams Baker Nelson Carter Mitchell "
                     "Roberts Turner Phillips Campbell Parker Evans Edwards Collins Patel Chen "
                     "Khan Cooper Richardson Cox Howard Ward Peterson Gray Ramirez James Watson "
                     "Brooks Kelly Sanders Foster Bryant Russell Griffin Hayes Myers Ellis"),
        "de": _names("Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann "
                     "Schäfer Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann "
                     "Braun Krüger Hofmann Hartmann Yılmaz Kowalski Schulte Dietrich Kraus Böhm "
                     "Frank Albrecht Simon Ludwig Walter Peters Möller Schmitz Krause Lange "
                     "Werner Schmid Köhler Maier Mayer Huber"),
        "fr": _names("Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon "
                     "Laurent Lefebvre Michel Garcia David Bertrand Roux Vincent Fournier Morel "
                     "Girard Benali Nguyen Mathieu Clément Gautier Henry Roussel Nicolas Masson "
                     "Marchal Dumont Noël Meyer Brun Blanc Colin Barbier Arnaud Giraud Picard "
                     "Renard Caron"),
        "es": _names("García Rodríguez González Fernández López Martínez Sánchez Pérez Gómez "
                     "Martín Jiménez Ruiz Hernández Díaz Moreno Álvarez Muñoz Romero Alonso "
                     "Gutiérrez Navarro Torres Molina Suárez Ortiz Rubio Marín Sanz Núñez "
                     "Serrano Gil Lozano Cruz Flores Prieto Calvo Pascual Gallego Vicente "
                     "Fuentes Carmona León"),
    },
    places={
        "en": ["London", "Manchester", "Chicago", "Boston", "Seattle", "Dublin", "Toronto",
               "Sydney", "New York", "San Francisco", "Canada", "Ireland", "Texas", "Ohio"],
        "de": ["Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Stuttgart",
               "Düsseldorf", "Leipzig", "Deutschland", "Österreich", "Bayern", "Wien"],
        "fr": ["Paris", "Lyon", "Marseille", "Toulouse", "Nice", "Nantes", "Strasbourg",
               "Bordeaux", "France", "Belgique", "Bretagne", "Genève"],
        "es": ["Madrid", "Barcelona", "Valencia", "Sevilla", "Zaragoza", "Málaga", "Bilbao",
               "Granada", "España", "México", "Cataluña", "Buenos Aires"],
    },
    streets={
        "en": ["{n} {s} Street", "{n} {s} Road", "{n} {s} Avenue", "{n} {s} Drive"],
        "de": ["{s}straße {n}", "{s}str. {n}", "{s}allee {n}", "{s}platz {n}"],
        "fr": ["{n} rue {s}", "{n} avenue {s}", "{n}, place {s}"],
        "es": ["Calle {s} {n}", "Avenida {s} {n}", "C/ {s}, {n}", "Plaza {s} {n}"],
    },
    street_names={
        "en": ["Oak", "Maple", "High", "Church", "Park", "Elm", "Cedar", "Main", "Station"],
        "de": ["Haupt", "Bahnhof", "Schiller", "Goethe", "Linden", "Kirch", "Garten", "Berg"],
        "fr": ["de la Paix", "de Rivoli", "Victor Hugo", "Jean Jaurès", "du Général Leclerc",
               "des Lilas"],
        "es": ["Mayor", "de Alcalá", "Real", "del Sol", "de la Constitución", "San Juan"],
    },
    orgs=["Siemens", "Deutsche Bank", "Allianz", "BNP Paribas", "Renault", "Telefónica",
          "Banco Santander", "Barclays", "Vodafone", "Nestlé", "Volkswagen", "Société Générale",
          "BBVA", "Commerzbank", "Danone", "Mapfre", "Accenture", "Deloitte", "Goldman Sachs",
          "Northwind Traders Ltd", "Helix Analytics GmbH", "Blue River Logistics Inc.",
          "Caisse d'Épargne", "Repsol", "Generali"],
    dates={
        "en": ["{mon} {d}, {y}", "{d} {mon} {y}", "{y}-{m2}-{d2}", "{m}/{d}/{y}",
               "{mon} {y}", "{d} {mon}", "{hh}:{mm} on {mon} {d}"],
        "de": ["{d}. {mon} {y}", "{d2}.{m2}.{y}", "{mon} {y}", "{d}. {mon}",
               "{hh}:{mm} Uhr am {d}. {mon}"],
        "fr": ["{d} {mon} {y}", "{d2}/{m2}/{y}", "{mon} {y}", "le {d} {mon}",
               "{d} {mon} à {hh}h{mm}"],
        "es": ["{d} de {mon} de {y}", "{d2}/{m2}/{y}", "{mon} de {y}", "{d} de {mon}",
               "{d} de {mon} a las {hh}:{mm}"],
    },
    months=_MONTHS,
    titles={"en": ["Mr.", "Mrs.", "Ms.", "Dr."], "de": ["Herr", "Frau", "Dr."],
            "fr": ["M.", "Mme", "Dr"], "es": ["Sr.", "Sra.", "Dra."]},
    jobs={"en": ["accountant", "nurse", "software engineer", "sales manager", "teacher"],
          "de": ["Buchhalterin", "Krankenpfleger", "Softwareentwickler", "Lehrerin"],
          "fr": ["comptable", "infirmière", "ingénieur", "professeur"],
          "es": ["contable", "enfermera", "ingeniero", "profesora"]},
    nrp={"en": ["Polish", "Nigerian", "Catholic", "Muslim", "Irish", "Jewish", "Democrat"],
         "de": ["türkisch", "katholisch", "polnisch", "evangelisch", "muslimisch"],
         "fr": ["marocain", "catholique", "musulmane", "portugaise", "juive"],
         "es": ["colombiano", "católica", "musulmán", "peruana", "judío"]},
)

UNSEEN_LISTS = Lists(
    first={
        "en": _names("Oliver Amelia Harry Isla Jack Ava Charlie Mia Oscar Freya Alfie Poppy "
                     "Archie Evie Leo Ruby Finley Grace Theo Lily Rohan Mei"),
        "de": _names("Henrik Greta Malte Frieda Joscha Ilse Dieter Hannelore Till Wiebke Rüdiger "
                     "Gudrun Bastian Svenja Volker Heike Emre"),
        "fr": _names("Gaspard Margaux Théo Clémence Bastien Solène Loïc Maëlle Yannick Capucine "
                     "Hugo Anaïs Rémi Ségolène Yasmine"),
        "es": _names("Iñigo Ainhoa Rodrigo Nerea Gonzalo Itziar Álvaro Rocío Ignacio Begoña "
                     "Fermín Araceli Joaquín Montserrat"),
    },
    last={
        "en": _names("Hughes Morgan Price Bennett Reid Fraser Murray Kennedy Sutherland "
                     "Gallagher Doyle Brennan Whitfield Ashworth Pemberton Holloway Lockwood "
                     "Thornton Kendall Okafor"),
        "de": _names("Lindner Brandt Vogt Haas Kuhn Engel Horn Seidel Ziegler Pohl Lorenz Jäger "
                     "Franke Sommer Graf Winkler Demir"),
        "fr": _names("Chevalier Gauthier Perrin Marchand Duval Lemaire Fontaine Rousseau "
                     "Blanchard Guérin Boyer Lacroix Mercier Faure Haddad"),
        "es": _names("Castillo Ortega Delgado Vargas Herrera Medina Castro Ramos Iglesias "
                     "Cabrera Santana Aguirre Vidal Soler"),
    },
    places={
        "en": ["Leeds", "Glasgow", "Denver", "Portland", "Cork", "Ottawa", "Perth",
               "Bristol", "Vermont", "Scotland"],
        "de": ["Dresden", "Bremen", "Hannover", "Nürnberg", "Freiburg", "Kiel", "Sachsen",
               "Zürich"],
        "fr": ["Lille", "Rennes", "Montpellier", "Grenoble", "Dijon", "Reims", "Normandie",
               "Québec"],
        "es": ["Córdoba", "Alicante", "Valladolid", "Salamanca", "Oviedo", "Cádiz", "Galicia",
               "Lima"],
    },
    streets={
        "en": ["Flat {n}, {n} {s} Crescent", "{n} {s} Lane", "{n} {s} Close, Apt {n}"],
        "de": ["Am {s} {n}", "{s}weg {n}", "{s}gasse {n}"],
        "fr": ["{n} boulevard {s}", "{n} bis, chemin {s}", "{n} allée {s}"],
        "es": ["Paseo {s} {n}, 3º B", "Camino {s} {n}", "Ronda {s}, {n}"],
    },
    street_names={
        "en": ["Willow", "Kingsway", "Meadow", "Harbour", "Rosemary", "Chapel"],
        "de": ["Mühlbach", "Rosen", "Eichen", "Wiesen", "Sonnen", "Fichten"],
        "fr": ["Haussmann", "des Vignes", "Saint-Michel", "du Moulin", "Pasteur"],
        "es": ["de Gracia", "del Prado", "de la Castellana", "de los Olivos"],
    },
    orgs=["Lufthansa", "Bosch", "Carrefour", "L'Oréal", "Iberdrola", "Inditex", "HSBC",
          "Unilever", "Airbus", "Bayer", "Orange", "CaixaBank", "Heineken", "Philips",
          "Quarry Hill Partners LLP", "Sonnenfeld Maschinenbau AG", "Tierra Verde S.L."],
    dates={
        "en": ["{d}th of {mon}", "{mon} {d}th", "{d2}.{m2}.{y}", "{mon} '{yy}",
               "{hh}.{mm} pm on {d} {mon}"],
        "de": ["{d2}.{m2}.", "{mon} '{yy}", "{d}.{m}.{y}", "{mon} {y}"],
        "fr": ["{d2}.{m2}.{y}", "{d}/{m}/{yy}", "{mon} {y}", "{d} {mon}"],
        "es": ["{d} de {mon}", "{d2}-{m2}-{y}", "{mon} {y}", "{mon} de {y}"],
    },
    months=_MONTHS,
    titles={"en": ["Prof.", "Miss", "Mx"], "de": ["Prof.", "Fr.", "Hr."],
            "fr": ["Mlle", "Pr", "Maître"], "es": ["Don", "Doña", "Prof."]},
    jobs={"en": ["paramedic", "architect", "pharmacist"],
          "de": ["Architektin", "Apotheker", "Elektriker"],
          "fr": ["architecte", "pharmacien", "électricienne"],
          "es": ["arquitecto", "farmacéutica", "electricista"]},
    nrp={"en": ["Hindu", "Ghanaian", "Buddhist", "Welsh"],
         "de": ["jüdisch", "griechisch", "orthodox"],
         "fr": ["algérien", "protestante", "bouddhiste"],
         "es": ["venezolana", "evangélico", "ecuatoriano"]},
)

TRAIN_TEMPLATES: Mapping[str, Sequence[str]] = {
    "en": [
        "My name is {PERSON} and I live in {LOCATION}.",
        "Please send the invoice to {PERSON}, {ADDRESS}, {LOCATION}.",
        "{TITLE} {PERSON} works as a {JOB} at {ORG}.",
        "Can you write a birthday message for {FIRST}? She turns {AGE} on {DATE}.",
        "Summarise this email from {PERSON} about the meeting on {DATE}.",
        "{PERSON} ({AGE}) was admitted to the hospital in {LOCATION} on {DATE}.",
        "Hi {FIRST}, thanks for your order. It ships to {ADDRESS} tomorrow.",
        "The contract between {ORG} and {ORG} was signed by {PERSON}.",
        "I am a {AGE}-year-old {NRP} woman looking for a flat in {LOCATION}.",
        "Draft a reference letter for {PERSON}, who worked with us as a {JOB}.",
        "Customer: {PERSON}\nAddress: {ADDRESS}\nCity: {LOCATION}\nDate of birth: {DATE}",
        "Dear {TITLE} {LAST}, your appointment is confirmed for {DATE}.",
        "{FIRST} and {FIRST} are moving from {LOCATION} to {LOCATION} next month.",
        "Why did my colleague {PERSON} from {ORG} get a bonus?",
        "Translate this: '{PERSON} is {NRP} and has lived at {ADDRESS} since {DATE}.'",
        "Book a table for {FIRST} {LAST} at 7pm.",
        "How do I sort a list in Python?",
        "Write a SQL query that joins the Orders and Customers tables.",
        "What is the capital of {LOCATION}?",
        "The quarterly results of {ORG} beat expectations.",
        "Thanks again,\n{PERSON}\n{JOB}, {ORG}\n{ADDRESS}",
        "Meeting notes {DATE}: {FIRST} presented, {PERSON} disagreed, {FIRST} will follow up.",
        "Who is {PERSON}? I met him at the conference in {LOCATION}.",
        "Remind me to call {FIRST} tomorrow about the flat on {ADDRESS}.",
        "Tenant: {TITLE} {PERSON}, born {DATE}, {NRP}, employed by {ORG}.",
        "i think {FIRST} {LAST} left {ORG} last year",
        "Is it legal for {ORG} to fire someone who is {AGE} years old in {LOCATION}?",
        "Generate a unit test for the class InvoiceParser in Java.",
        "Recommend a laptop under 1000 euros for Python and Docker.",
        "What does the Linux command grep -R do?",
        "Why does Elasticsearch reject documents after Kibana upgraded the index template?",
        "Set up Traefik in front of Vault and Consul with Let's Encrypt.",
        "Our Celery workers stall when RabbitMQ restarts; Sentry shows timeouts.",
        "Deploy Argo CD with Helm and watch logs in Loki.",
        "Applicant {PERSON} ({AGE}) asked whether {ORG} pays relocation.",
        "Client {PERSON}, {NRP}, prefers e-mail; her doctor is {TITLE} {LAST}.",
        "can you check if {FIRST} {LAST} signed the form?",
        "Employee {PERSON} [{ORG}] requested leave from {DATE}.",
        "Forward this to {PERSON} before the deadline.",
        "Could you ask {PERSON} whether the report is ready?",
        "Set up Terraform with AWS Lambda and DynamoDB Streams.",
        "Our TeamCity build fails after upgrading Maven and Quarkus.",
        "Compare Microsoft Teams, Slack and Zoom Workplace for a small company.",
        "Why does my Flask app return 500 when SQLAlchemy loses the connection?",
        "Install Visual Studio Code, Node.js and the ESLint extension on macOS.",
        "The method OrderService.cancelOrder() throws IllegalStateException.",
        "Is Nikon Z6 III better than Sony Alpha 7 IV for video?",
        "Explain Kafka consumer groups and Kafka Connect.",
    ],
    "de": [
        "Mein Name ist {PERSON} und ich wohne in {LOCATION}.",
        "Bitte schicken Sie die Rechnung an {PERSON}, {ADDRESS}, {LOCATION}.",
        "{TITLE} {PERSON} arbeitet als {JOB} bei {ORG}.",
        "Schreib eine Geburtstagskarte für {FIRST}, die am {DATE} {AGE} wird.",
        "Fasse die E-Mail von {PERSON} zum Termin am {DATE} zusammen.",
        "Sehr geehrte {TITLE} {LAST}, Ihr Termin ist am {DATE}.",
        "Kunde: {PERSON}\nAnschrift: {ADDRESS}\nOrt: {LOCATION}\nGeburtsdatum: {DATE}",
        "{PERSON} ({AGE}) ist {NRP} und lebt seit {DATE} in {LOCATION}.",
        "Hallo {FIRST}, deine Bestellung geht morgen an {ADDRESS}.",
        "Der Vertrag zwischen {ORG} und {PERSON} wurde in {LOCATION} unterschrieben.",
        "Wie installiere ich Python unter Windows?",
        "Erkläre mir den Unterschied zwischen TCP und UDP.",
        "Viele Grüße\n{PERSON}\n{JOB}, {ORG}\n{ADDRESS}",
        "Protokoll vom {DATE}: {FIRST} hat präsentiert, {PERSON} war dagegen.",
        "Wer ist {PERSON}? Ich habe sie auf der Messe in {LOCATION} getroffen.",
        "Erinnere mich daran, {FIRST} morgen wegen der Wohnung in der {ADDRESS} anzurufen.",
        "Mieter: {TITLE} {PERSON}, geboren am {DATE}, {NRP}, angestellt bei {ORG}.",
        "ich glaube {FIRST} {LAST} hat {ORG} letztes Jahr verlassen",
        "Darf {ORG} jemanden mit {AGE} Jahren in {LOCATION} kündigen?",
        "Schreibe einen Unit-Test für die Klasse RechnungParser in Java.",
        "Welcher Laptop unter 1000 Euro eignet sich für Python und Docker?",
        "Was macht der Befehl git rebase genau?",
        "Warum verliert Celery Aufgaben, wenn RabbitMQ neu startet?",
        "Richte Traefik vor Vault und Consul ein.",
        "Bewerber {PERSON} ({AGE}) fragt, ob {ORG} den Umzug zahlt.",
        "Kundin {PERSON}, {NRP}, möchte E-Mails; ihr Arzt ist {TITLE} {LAST}.",
        "kannst du nachsehen, ob {FIRST} {LAST} das Formular unterschrieben hat?",
        "Mitarbeiterin {PERSON} [{ORG}] hat ab {DATE} Urlaub beantragt.",
        "Leite das bitte an {PERSON} weiter.",
        "Kannst du {PERSON} fragen, ob der Bericht fertig ist?",
        "Wie richte ich Docker Compose mit GitLab Runner ein?",
        "Vergleiche Microsoft Excel und LibreOffice Calc für Pivot-Tabellen.",
        "Die Methode KundenService.ladeKunde() wirft eine NullPointerException.",
        "Ist das Lenovo ThinkPad besser als das Dell XPS für Linux?",
    ],
    "fr": [
        "Je m'appelle {PERSON} et j'habite à {LOCATION}.",
        "Merci d'envoyer la facture à {PERSON}, {ADDRESS}, {LOCATION}.",
        "{TITLE} {PERSON} travaille comme {JOB} chez {ORG}.",
        "Écris un message d'anniversaire pour {FIRST}, qui aura {AGE} ans le {DATE}.",
        "Résume le courriel de {PERSON} sur la réunion du {DATE}.",
        "Bonjour {TITLE} {LAST}, votre rendez-vous est fixé au {DATE}.",
        "Client : {PERSON}\nAdresse : {ADDRESS}\nVille : {LOCATION}\nNé le : {DATE}",
        "{PERSON}, {AGE} ans, {NRP}, habite au {ADDRESS} depuis {DATE}.",
        "Salut {FIRST}, ta commande sera livrée au {ADDRESS} demain.",
        "Le contrat entre {ORG} et {PERSON} a été signé à {LOCATION}.",
        "Comment trier une liste en JavaScript ?",
        "Explique-moi la photosynthèse en trois phrases.",
        "Bien cordialement,\n{PERSON}\n{JOB}, {ORG}\n{ADDRESS}",
        "Compte rendu du {DATE} : {FIRST} a présenté, {PERSON} n'était pas d'accord.",
        "Qui est {PERSON} ? Je l'ai rencontré au salon de {LOCATION}.",
        "Rappelle-moi d'appeler {FIRST} demain pour l'appartement du {ADDRESS}.",
        "Locataire : {TITLE} {PERSON}, né le {DATE}, {NRP}, salarié de {ORG}.",
        "je crois que {FIRST} {LAST} a quitté {ORG} l'an dernier",
        "{ORG} peut-il licencier quelqu'un de {AGE} ans à {LOCATION} ?",
        "Écris un test unitaire pour la classe FactureParser en Java.",
        "Quel ordinateur portable à moins de 1000 euros pour Python et Docker ?",
        "Que fait la commande git rebase exactement ?",
        "Pourquoi Elasticsearch refuse-t-il mes documents après la mise à jour de Kibana ?",
        "Déploie Argo CD avec Helm et surveille les journaux dans Loki.",
        "Candidat {PERSON} ({AGE} ans) demande si {ORG} paie le déménagement.",
        "Cliente {PERSON}, {NRP}, préfère les courriels ; son médecin est {TITLE} {LAST}.",
        "tu peux regarder si {FIRST} {LAST} a signé le formulaire ?",
        "Salariée {PERSON} [{ORG}] a demandé un congé à partir du {DATE}.",
        "Transmets ceci à {PERSON} avant vendredi.",
        "Peux-tu demander à {PERSON} si le rapport est prêt ?",
        "Comment configurer Tomcat avec Keycloak ?",
        "Compare Notion, Trello et Microsoft Planner pour une petite équipe.",
        "La fonction calculerTotal() renvoie NaN dans mon code JavaScript.",
        "La Garmin Forerunner est-elle compatible avec Strava ?",
    ],
    "es": [
        "Me llamo {PERSON} y vivo en {LOCATION}.",
        "Envíe la factura a {PERSON}, {ADDRESS}, {LOCATION}.",
        "{TITLE} {PERSON} trabaja como {JOB} en {ORG}.",
        "Escribe una felicitación para {FIRST}, que cumple {AGE} años el {DATE}.",
        "Resume el correo de {PERSON} sobre la reunión del {DATE}.",
        "Estimada {TITLE} {LAST}, su cita es el {DATE}.",
        "Cliente: {PERSON}\nDirección: {ADDRESS}\nCiudad: {LOCATION}\nFecha de nacimiento: {DATE}",
        "{PERSON} tiene {AGE} años, es {NRP} y vive en {ADDRESS} desde {DATE}.",
        "Hola {FIRST}, tu pedido llegará mañana a {ADDRESS}.",
        "El contrato entre {ORG} y {PERSON} se firmó en {LOCATION}.",
        "¿Cómo se ordena una lista en Python?",
        "Explícame qué es una hipoteca variable.",
        "Un saludo,\n{PERSON}\n{JOB}, {ORG}\n{ADDRESS}",
        "Acta del {DATE}: {FIRST} presentó, {PERSON} no estuvo de acuerdo.",
        "¿Quién es {PERSON}? La conocí en la feria de {LOCATION}.",
        "Recuérdame llamar mañana a {FIRST} por el piso de {ADDRESS}.",
        "Inquilino: {TITLE} {PERSON}, nacido el {DATE}, {NRP}, empleado de {ORG}.",
        "creo que {FIRST} {LAST} dejó {ORG} el año pasado",
        "¿Puede {ORG} despedir a alguien de {AGE} años en {LOCATION}?",
        "Escribe una prueba unitaria para la clase FacturaParser en Java.",
        "¿Qué portátil de menos de 1000 euros me recomiendas para Python y Docker?",
        "¿Qué hace exactamente el comando git rebase?",
        "¿Por qué Celery pierde tareas cuando RabbitMQ se reinicia?",
        "Configura Traefik delante de Vault y Consul.",
        "Candidato {PERSON} ({AGE} años) pregunta si {ORG} paga la mudanza.",
        "Clienta {PERSON}, {NRP}, prefiere correo; su médico es {TITLE} {LAST}.",
        "¿puedes ver si {FIRST} {LAST} firmó el formulario?",
        "Empleada {PERSON} [{ORG}] pidió vacaciones desde el {DATE}.",
        "Reenvía esto a {PERSON} antes del lunes.",
        "¿Puedes preguntar a {PERSON} si el informe está listo?",
        "¿Cómo conecto Power BI con Azure SQL Database?",
        "Compara Final Cut Pro y DaVinci Resolve para editar vídeo.",
        "La función obtenerUsuario() devuelve undefined en Node.js.",
        "¿El Xiaomi Redmi Note es mejor que el Motorola Edge?",
    ],
}

UNSEEN_TEMPLATES: Mapping[str, Sequence[str]] = {
    "en": [
        "hey, can you check whether {FIRST} {LAST} already paid? she's at {ADDRESS}",
        "Forwarded message — From: {PERSON} <redacted> Sent: {DATE} Subject: visit to {LOCATION}",
        "Patient {PERSON}, {AGE}, {NRP}, referred by {TITLE} {LAST} from {ORG}.",
        "I'm flying to {LOCATION} with {FIRST} on {DATE}; suggest a hotel near {ADDRESS}.",
        "Rewrite politely: {LAST} from {ORG} still hasn't answered my complaint.",
        "Our new {JOB}, {PERSON}, starts in {LOCATION} on {DATE}.",
        "Give me feedback on my CV. Name: {PERSON}. Age: {AGE}. Based in {LOCATION}.",
        "Explain the difference between the iPhone 15 Pro and the Galaxy S24 Ultra.",
        "Why does getUserById() return null in my React Native app?",
        "Compare PostgreSQL and MongoDB for a Django project.",
    ],
    "de": [
        "kannst du prüfen, ob {FIRST} {LAST} schon bezahlt hat? wohnt {ADDRESS}, {LOCATION}",
        "Weitergeleitet — Von: {PERSON} Gesendet: {DATE} Betreff: Besuch in {LOCATION}",
        "Patientin {PERSON}, {AGE} Jahre, {NRP}, überwiesen von {TITLE} {LAST} ({ORG}).",
        "Ich fliege {DATE} mit {FIRST} nach {LOCATION}, such mir ein Hotel.",
        "Formuliere höflich: {LAST} von {ORG} hat meine Beschwerde nicht beantwortet.",
        "Unsere neue {JOB}, {PERSON}, fängt {DATE} in {LOCATION} an.",
        "Was ist der Unterschied zwischen Kubernetes und Docker Swarm?",
    ],
    "fr": [
        "tu peux vérifier si {FIRST} {LAST} a payé ? elle habite {ADDRESS}, {LOCATION}",
        "Message transféré — De : {PERSON} Envoyé : {DATE} Objet : visite à {LOCATION}",
        "Patiente {PERSON}, {AGE} ans, {NRP}, adressée par {TITLE} {LAST} ({ORG}).",
        "Je pars à {LOCATION} avec {FIRST} {DATE}, trouve-moi un hôtel.",
        "Reformule poliment : {LAST} de {ORG} n'a toujours pas répondu.",
        "Notre nouvel {JOB}, {PERSON}, commence {DATE} à {LOCATION}.",
        "Quelle est la différence entre Excel et Google Sheets ?",
    ],
    "es": [
        "¿puedes mirar si {FIRST} {LAST} ya pagó? vive en {ADDRESS}, {LOCATION}",
        "Mensaje reenviado — De: {PERSON} Enviado: {DATE} Asunto: visita a {LOCATION}",
        "Paciente {PERSON}, {AGE} años, {NRP}, remitida por {TITLE} {LAST} ({ORG}).",
        "Viajo a {LOCATION} con {FIRST} {DATE}, búscame un hotel.",
        "Reescribe con educación: {LAST} de {ORG} no ha contestado mi reclamación.",
        "Nuestro nuevo {JOB}, {PERSON}, empieza {DATE} en {LOCATION}.",
        "¿Qué diferencia hay entre Windows 11 y macOS Sonoma?",
    ],
}


def _date(lists: Lists, lang: str, rng: random.Random) -> str:
    d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1940, 2026)
    return rng.choice(lists.dates[lang]).format(
        d=d, m=m, y=y, d2=f"{d:02d}", m2=f"{m:02d}", yy=f"{y % 100:02d}",
        mon=lists.months[lang][m - 1], hh=f"{rng.randint(7, 20):02d}",
        mm=rng.choice(("00", "15", "30", "45")))


def _fill(slot: str, lists: Lists, lang: str, rng: random.Random) -> str:
    """One value for ``slot``; names may come from another language (people move)."""
    name_lang = lang if rng.random() < 0.75 else rng.choice(LANGS)
    if slot == "PERSON":
        first = rng.choice(lists.first[name_lang])
        last = rng.choice(lists.last[name_lang])
        if rng.random() < 0.15:
            last = f"{last}-{rng.choice(lists.last[name_lang])}" if name_lang != "es" else \
                f"{last} {rng.choice(lists.last[name_lang])}"
        return f"{first} {last}" if rng.random() > 0.08 else f"{first[0]}. {last}"
    simple = {"FIRST": lists.first[name_lang], "LAST": lists.last[name_lang],
              "LOCATION": lists.places[lang], "ORG": lists.orgs, "TITLE": lists.titles[lang],
              "JOB": lists.jobs[lang], "NRP": lists.nrp[lang]}
    if slot in simple:
        return rng.choice(simple[slot])
    if slot == "ADDRESS":
        return rng.choice(lists.streets[lang]).format(
            n=rng.randint(1, 240), s=rng.choice(lists.street_names[lang]))
    if slot == "AGE":
        return str(rng.randint(18, 93))
    return _date(lists, lang, rng)


def render(template: str, lists: Lists, lang: str, rng: random.Random) -> dict[str, Any]:
    """A row ``{text, spans, lang}`` with exact character offsets of every filled slot."""
    parts: list[str] = []
    spans: list[dict[str, Any]] = []
    pos = 0
    size = 0
    for m in _SLOT.finditer(template):
        parts.append(template[pos:m.start()])
        size += m.start() - pos
        value = _fill(m.group(1), lists, lang, rng)
        entity = _ENTITY[m.group(1)]
        if spans and spans[-1]["entity"] == entity == "PERSON" and spans[-1]["end"] == size - 1 \
                and template[pos:m.start()] == " ":  # {FIRST} {LAST} is one name
            spans[-1]["end"] = size + len(value)
        else:
            spans.append({"start": size, "end": size + len(value), "entity": entity})
        parts.append(value)
        size += len(value)
        pos = m.end()
    parts.append(template[pos:])
    text = "".join(parts)
    if rng.random() < 0.05:  # people type in lower case too
        text = text.lower()
    return {"text": text, "spans": spans, "label": int(bool(spans)), "lang": lang}


def rows(source: str, per_template: int, seed: int) -> Iterator[dict[str, Any]]:
    """``per_template`` rows per template of ``source`` (``train`` or ``unseen``)."""
    lists, templates = (TRAIN_LISTS, TRAIN_TEMPLATES) if source == "train" else \
        (UNSEEN_LISTS, UNSEEN_TEMPLATES)
    rng = random.Random(seed)
    for lang in LANGS:
        for template in templates[lang]:
            n = per_template if _SLOT.search(template) else max(1, per_template // 4)
            for _ in range(n):
                row = render(template, lists, lang, rng)
                row["source"] = f"assay_synth_{source}"
                yield row


def check_disjoint() -> None:
    """The two sources share no name, place or company (else ``unseen`` is not unseen)."""
    def values(lists: Lists) -> set[str]:
        out = set(lists.orgs)
        for table in (lists.first, lists.last, lists.places):
            for v in table.values():
                out.update(v)
        return out

    shared = values(TRAIN_LISTS) & values(UNSEEN_LISTS)
    if shared:
        raise SystemExit(f"train and unseen lists share {sorted(shared)}")


def write(path: Path, items: Iterator[dict[str, Any]]) -> int:
    """Write rows as JSON Lines; returns how many."""
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for row in items:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n
