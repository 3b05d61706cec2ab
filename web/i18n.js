/* vendange web page: its own words in English and French, and dates,
   amounts and numbers in the browser's locale (Intl). Loaded before
   app.js. The language follows the browser's preferred languages
   (navigator.languages, what it sends as Accept-Language) unless the
   switch in the header chose one (kept in localStorage). What the API
   says (error messages, recommendation reasons, statuses in data) stays
   as the API wrote it. */
"use strict";

const LANGUAGES = {
    en : "English",
    fr : "Français"
};

/* French for each English text of the page; {name} is a placeholder */
const FRENCH = {
    "Sources" : "Sources",
    "Data quality" : "Qualité des données",
    "Mapping" : "Correspondance",
    "Customers" : "Clients",
    "Loading…" : "Chargement…",
    "Language" : "Langue",
    "never" : "jamais",
    "hint: " : "conseil : ",
    "cannot reach the orchestrator: {msg}" : "orchestrateur injoignable : {msg}",
    "API token (VENDANGE_API_TOKEN)" : "Jeton de l’API (VENDANGE_API_TOKEN)",
    "Sign in" : "Se connecter",
    /* badges: statuses and health */
    "idle" : "inactif",
    "healthy" : "sain",
    "syncing" : "en synchro",
    "error" : "erreur",
    "queued" : "en attente",
    "running" : "en cours",
    "success" : "réussi",
    "partial" : "partiel",
    "failed" : "échoué",
    "good" : "bon",
    "bad" : "mauvais",
    "win-back" : "reconquête",
    /* customer segments */
    "vip" : "VIP",
    "standard" : "standard",
    "at_risk" : "à risque",
    "prospect" : "prospect",
    "inactive" : "inactif",
    /* sources */
    "No connector yet: register one below." :
        "Aucun connecteur pour l’instant : enregistrez-en un ci-dessous.",
    "Register a source" : "Enregistrer une source",
    "Services alive: {list}" : "Services en marche : {list}",
    "none" : "aucun",
    "run {id}" : "exécution {id}",
    "recommendation job {id}" : "calcul de recommandations {id}",
    "{role} {instance} (failed {runs})" : "{role} {instance} (en échec : {runs})",
    "Stopped, failed recent runs: {list}" :
        "Arrêtés, ayant fait échouer des exécutions récentes : {list}",
    "type: {type}" : "type : {type}",
    "last run: {run}" : "dernière exécution : {run}",
    "last error: {error}" : "dernière erreur : {error}",
    "Test" : "Tester",
    "Sync now" : "Synchroniser",
    "Details" : "Détails",
    "testing…" : "test en cours…",
    "test ok: {summary}" : "test réussi : {summary}",
    "test failed: {summary}" : "test échoué : {summary}",
    "connector test: no answer from an extractor" :
        "test du connecteur : aucun extracteur n’a répondu",
    "sync queued…" : "synchronisation en attente…",
    "run #{id} {status}: {records} records" :
        "exécution n° {id} {status} : {records} enregistrements",
    "Name *" : "Nom *",
    "Type" : "Type",
    "Register" : "Enregistrer",
    /* the fields of a connector type: label and help */
    "Export folder" : "Dossier des exports",
    "folder of the iSaVigne exports (clients, produits, ventes, stock)" :
        "dossier des exports iSaVigne (clients, produits, ventes, stock)",
    "Encoding override" : "Encodage imposé",
    "empty: detected (windows-1252, iso-8859-15, utf-8)" :
        "vide : détecté (windows-1252, iso-8859-15, utf-8)",
    "Mapping file" : "Fichier de correspondance",
    "column mapping file; empty: the two built-in dialects" :
        "fichier de correspondance des colonnes ; vide : les deux dialectes intégrés",
    "Schedule" : "Planification",
    "e.g. every 15m, hourly, daily 02:00" : "p. ex. every 15m, hourly, daily 02:00",
    "URL" : "URL",
    "Database" : "Base de données",
    "User" : "Utilisateur",
    "technical user" : "utilisateur technique",
    "API key" : "Clé d’API",
    "write-only: never shown again" : "en écriture seule : plus jamais affichée",
    "Token" : "Jeton",
    "write-only" : "en écriture seule",
    "User (basic auth)" : "Utilisateur (authentification basique)",
    "Password" : "Mot de passe",
    /* connector detail */
    "no table" : "aucune table",
    "table" : "table",
    "extracted" : "extraites",
    "inserted" : "insérées",
    "updated" : "mises à jour",
    "unchanged" : "inchangées",
    "rejected" : "rejetées",
    "warnings" : "avertissements",
    "errors" : "erreurs",
    "{title} ({count})" : "{title} ({count})",
    "raw: {value}" : "brut : {value}",
    "reason" : "motif",
    "file" : "fichier",
    "line" : "ligne",
    "raw" : "ligne brute",
    "previous" : "précédents",
    "next" : "suivants",
    "no reject" : "aucun rejet",
    "before" : "avant",
    "after" : "après",
    "cursor" : "curseur",
    "{label}: —" : "{label} : —",
    "{label}: {value}" : "{label} : {value}",
    "{label} ({length} chars)" : "{label} ({length} caractères)",
    "{count} warnings in all" : "{count} avertissements en tout",
    "1 line" : "1 ligne",
    "{count} lines" : "{count} lignes",
    "examples: {list}" : "exemples : {list}",
    "all lines" : "toutes les lignes",
    "rejects ({count})" : "rejets ({count})",
    "{seconds} s" : "{seconds} s",
    "(secret, write-only)" : "(secret, en écriture seule)",
    "type {type}" : "type {type}",
    "type {type}, schedule {schedule}" : "type {type}, planification {schedule}",
    "Re-run sync" : "Relancer la synchronisation",
    "Full re-sync" : "Resynchronisation complète",
    "Column changes" : "Colonnes modifiées",
    "These export files were not loaded: their columns changed since the columns accepted. Check the export (and the mapping), then accept them; the next sync loads the file." :
        "Ces fichiers d’export n’ont pas été chargés : leurs colonnes ont changé depuis les colonnes acceptées. Vérifiez l’export (et la correspondance), puis acceptez-les ; la prochaine synchronisation charge le fichier.",
    "missing: {missing}; added: {added}" : "manquantes : {missing} ; ajoutées : {added}",
    "Accept the new columns" : "Accepter les nouvelles colonnes",
    "columns of {file} accepted: the next sync loads it" :
        "colonnes de {file} acceptées : la prochaine synchronisation le charge",
    "records per run" : "enregistrements par exécution",
    "run duration" : "durée d’exécution",
    "Runs ({count}, newest first)" : "Exécutions ({count}, la plus récente en premier)",
    "run" : "exécution",
    "status" : "état",
    "started" : "début",
    "duration" : "durée",
    "counts" : "décomptes",
    "warnings, errors, rejects" : "avertissements, erreurs, rejets",
    /* data quality */
    "Score per table: {formula}. " : "Score par table : {formula}. ",
    "Download the anomalies (CSV)" : "Télécharger les anomalies (CSV)",
    "Download the report (PDF)" : "Télécharger le rapport (PDF)",
    "{rows} rows · completeness {percent} %" : "{rows} lignes · complétude {percent} %",
    "invalid {invalid} · duplicates {duplicate} · orphans {orphan}" :
        "invalides {invalid} · doublons {duplicate} · orphelins {orphan}",
    "field" : "champ",
    "filled" : "renseignés",
    "check" : "contrôle",
    "kind" : "nature",
    "rows" : "lignes",
    "examples" : "exemples",
    "{count} shown" : "{count} affichés",
    /* mapping */
    "Mapping: canonical fields vs source columns" :
        "Correspondance : champs canoniques et colonnes sources",
    "Preview" : "Aperçu",
    "The first rows of each export file as read, and what the normalizer makes of them. Nothing is loaded." :
        "Les premières lignes de chaque fichier d’export telles que lues, et ce que le normaliseur en fait. Rien n’est chargé.",
    "Preview the first rows" : "Aperçu des premières lignes",
    "reading…" : "lecture…",
    "no preview: {why}" : "pas d’aperçu : {why}",
    "{n} file(s) read" : "{n} fichier(s) lu(s)",
    "as read" : "tel que lu",
    "canonical values" : "valeurs canoniques",
    "rejected: {why}" : "rejeté : {why}",
    "no data rows" : "aucune ligne de données",
    "Mapping of {name}: canonical fields vs source columns" :
        "Correspondance de {name} : champs canoniques et colonnes sources",
    "canonical columns" : "colonnes canoniques",
    "input field" : "champ d’entrée",
    "source columns (first found wins)" : "colonnes sources (la première trouvée l’emporte)",
    /* customers and recommendations */
    "opted out of emails" : "désinscrit des e-mails",
    "email invalid" : "e-mail invalide",
    "no email" : "pas d’e-mail",
    "excluded" : "exclu",
    "campaign ok" : "campagne possible",
    "no campaign: {why}" : "pas de campagne : {why}",
    "name, email or key" : "nom, e-mail ou clé",
    "Search" : "Rechercher",
    "customer" : "client",
    "email" : "e-mail",
    "segment" : "segment",
    "spent" : "dépensé",
    "orders" : "commandes",
    "last purchase" : "dernier achat",
    "campaign" : "campagne",
    "ok" : "possible",
    "No customer matches." : "Aucun client ne correspond.",
    "Recommendations" : "Recommandations",
    "Download the campaign CSV" : "Télécharger le CSV de campagne",
    "recommendation run {id} queued" : "calcul de recommandations {id} en attente",
    "Recompute for every customer" : "Recalculer pour tous les clients",
    "Precision of past recommendations" : "Précision des recommandations passées",
    "{followed} of {evaluated} followed by a click or a purchase within {days} days; {pending} too recent to judge" :
        "{followed} sur {evaluated} suivies d’un clic ou d’un achat sous {days} jours ; {pending} trop récentes pour juger",
    "staff verdicts: {good} good, {bad} bad" : "avis de l’équipe : {good} bons, {bad} mauvais",
    "signal" : "signal",
    "followed" : "suivies",
    "precision" : "précision",
    "recomputing…" : "recalcul…",
    "recommendation run {id} failed: {error}" :
        "le calcul de recommandations {id} a échoué : {error}",
    "recommendation run {id} {status}…" : "calcul de recommandations {id} {status}…",
    "the recommender did not run the job (is it running?)" :
        "le recommandeur n’a pas fait le calcul (est-il en marche ?)",
    "why? (optional)" : "pourquoi ? (facultatif)",
    "Good" : "Bonne",
    "Bad" : "Mauvaise",
    "{product_key} · score {score}" : "{product_key} · score {score}",
    "purchases" : "achats",
    "total spent" : "total dépensé",
    "average order" : "panier moyen",
    "first purchase" : "premier achat",
    "bottles (75 cl eq.)" : "bouteilles (éq. 75 cl)",
    "run {id}, model {model}, {time}" : "calcul {id}, modèle {model}, {time}",
    "none yet" : "aucune pour l’instant",
    "Refresh" : "Recalculer",
    "Purchase history ({lines} lines, {bottles} bottles 75 cl eq., {money})" :
        "Historique d’achats ({lines} lignes, {bottles} bouteilles éq. 75 cl, {money})",
    "date" : "date",
    "order" : "commande",
    "product" : "produit",
    "amount" : "montant",
    /* alerts (alerts.js) */
    "Alerts" : "Alertes",
    "Channels" : "Canaux",
    "Rules" : "Règles",
    "Send a test notification" : "Envoyer une notification de test",
    "Set with vendange alerts set RULE [--connector NAME] KEY=VALUE." :
        "Se règlent par vendange alerts set RÈGLE [--connector NOM] CLÉ=VALEUR.",
    "every connector" : "tous les connecteurs",
    "no alert so far" : "aucune alerte jusqu’ici",
    "no channel" : "aucun canal",
    "no channel: vendange alerts channel add NAME --type smtp|http" :
        "aucun canal : vendange alerts channel add NOM --type smtp|http",
    "off" : "désactivée",
    "sending…" : "envoi…",
    "{n} attempts" : "{n} tentatives",
    "{n} open alert(s)" : "{n} alerte(s) ouverte(s)",
    "{n} test notification(s) queued" : "{n} notification(s) de test en file",
    "open" : "ouverte",
    "resolved" : "résolue",
    "opened" : "ouverte",
    "sent" : "envoyée",
    "pending" : "en attente",
    "dead" : "abandonnée",
    "state" : "état",
    "rule" : "règle",
    "subject" : "sujet",
    "detail" : "détail",
    "deliveries" : "envois",
    "opens when" : "s’ouvre quand",
    "settings (default)" : "réglages (défaut)",
    "set" : "réglé",
    "name" : "nom",
    "type" : "type",
    "settings" : "réglages",
    "secrets" : "secrets",
};

const LANG = pickLanguage ();
/* the locale of formats: the browser's own when it speaks the page's
   language (fr-FR, fr-CH, en-GB...), else that language's default */
const LOCALE = (navigator.languages || [ navigator.language ])
                   .find((l) => l && l.toLowerCase().split("-")[0] === LANG) ||
               LANG;

function pickLanguage ()
{
    const chosen = localStorage.getItem("vendange_lang");
    if (LANGUAGES[chosen])
        return chosen;
    for (const l of navigator.languages || [ navigator.language ]) {
        const base = (l || "").toLowerCase().split("-")[0];
        if (LANGUAGES[base])
            return base;
    }
    return "en";
}

/* texts asked for in French that have no translation (the browser tests
   require it empty) */
const MISSING = new Set ();

/* the page's text in its language, {name} replaced by vars.name */
function t (text, vars)
{
    if (LANG === "fr" && FRENCH[text] === undefined)
        MISSING.add(text);
    const s = LANG === "fr" && FRENCH[text] !== undefined ? FRENCH[text] : text;
    return s.replace(/\{(\w+)\}/g, (m, k) => (vars && k in vars ? String (vars[k]) : m));
}

/* an instant (ISO 8601) as a local date and time: 05/12/2026 22:55 */
function fmtTime (iso)
{
    if (!iso)
        return t ("never");
    const d = new Date (iso);
    return isNaN (d) ? iso
                     : new Intl
                           .DateTimeFormat(LOCALE, {
                               year : "numeric",
                               month : "2-digit",
                               day : "2-digit",
                               hour : "2-digit",
                               minute : "2-digit"
                           })
                           .format(d);
}

/* a date (yyyy-mm-dd) as the locale writes it: 02/03/2025; "—" if none */
function fmtDate (day)
{
    if (!day)
        return "—";
    const d = new Date (day + "T00:00:00Z");
    return isNaN (d)
               ? day
               : new Intl
                     .DateTimeFormat(
                         LOCALE,
                         {year : "numeric", month : "2-digit", day : "2-digit", timeZone : "UTC"})
                     .format(d);
}

/* an amount in euros: 1 473,57 € (fr), €1,473.57 (en); "—" if none */
function fmtMoney (n)
{
    return n === null || n === undefined
               ? "—"
               : new Intl.NumberFormat(LOCALE, {style : "currency", currency : "EUR"})
                     .format(Number (n));
}

/* a number with at most `digits` decimals (1 by default) */
function fmtNum (n, digits)
{
    return new Intl
        .NumberFormat(LOCALE, {maximumFractionDigits : digits === undefined ? 1 : digits})
        .format(Number (n));
}

/* a number with exactly `digits` decimals */
function fmtFixed (n, digits)
{
    return new Intl
        .NumberFormat(LOCALE, {minimumFractionDigits : digits, maximumFractionDigits : digits})
        .format(Number (n));
}

/* a share (0..1) as a percentage: 12,5 % */
function pct (p)
{
    return p === null || p === undefined
               ? "—"
               : new Intl.NumberFormat(LOCALE, {style : "percent", maximumFractionDigits : 1})
                     .format(p);
}

/* the words of index.html ([data-i18n]) and the language switch */
function translateStatic ()
{
    document.documentElement.lang = LANG;
    for (const e of document.querySelectorAll("[data-i18n]"))
        e.textContent = t (e.dataset.i18n);
    const sel = document.getElementById("lang");
    if (!sel)
        return;
    sel.setAttribute("aria-label", t ("Language"));
    sel.replaceChildren(...Object.entries(LANGUAGES).map(([ code, name ]) => {
        const o = document.createElement("option");
        o.value = code;
        o.textContent = name;
        o.selected = code === LANG;
        return o;
    }));
    sel.addEventListener("change", () => {
        localStorage.setItem("vendange_lang", sel.value);
        location.reload();
    });
}
