// The widget's words in English, French and German, and the language choice:
// data-lang (or the host page's lang) first, then the browser's languages.

type Plural = { zero?: string; one: string; other: string };
type Entry = string | Plural;

const en = {
  heading: { zero: "No thoughts yet on “{title}”", one: "1 thought on “{title}”", other: "{n} thoughts on “{title}”" },
  thisPost: "this post",
  comments: "Comments",
  likePost: "Like this post",
  feed: "Comments feed",
  onMastodon: "on Mastodon",
  onBluesky: "on Bluesky",
  remoteLikes: { one: "{n} like", other: "{n} likes" },
  boosts: { one: "{n} boost", other: "{n} boosts" },
  reposts: { one: "{n} repost", other: "{n} reposts" },
  readingNow: { one: "{n} reading now", other: "{n} reading now" },
  sortBy: "Sort by",
  sortOldest: "Oldest",
  sortNewest: "Newest",
  sortBest: "Best",
  likedPost: "Liked",
  like: "Like",
  likedBy: { one: "Liked by 1 person", other: "Liked by {n} people" },
  reply: "Reply",
  replyTo: "Reply to {name}",
  cancelReply: "Cancel reply",
  edit: "Edit",
  delete: "Delete",
  confirmDelete: "Really delete?",
  save: "Save",
  cancel: "Cancel",
  mentionList: "People in this thread",
  myData: "My data",
  myDataReady: "Your data is downloading.",
  addPasskey: "Add a passkey",
  passkeyAdded: "Passkey added: next time, log in with it alone.",
  deleteMe: "Delete my account",
  deleteMeConfirm: "Really delete your account and comments here?",
  deletedMe: "Your account and your comments here are deleted.",
  typing: { one: "Someone is replying…", other: "{n} people are replying…" },
  react: "React",
  reactWith: "React with {emoji}",
  reactionCount: { one: "{emoji} {n} reaction", other: "{emoji} {n} reactions" },
  report: "Report",
  reportWhy: "Why report this comment?",
  reportSpam: "Spam or advertising",
  reportAbuse: "Abusive or hateful",
  reportOffTopic: "Off topic",
  reportOther: "Something else",
  reportSend: "Send report",
  reported: "Reported: thank you, the moderators will look at it.",
  edited: "edited",
  deleted: "This comment was deleted.",
  pending: "Your comment is awaiting moderation.",
  sending: "Posting…",
  you: "you",
  inReplyTo: "in reply to {name}",
  anonymous: "Anonymous",
  leaveReply: "Leave a Reply",
  comment: "Comment",
  name: "Name",
  email: "Email",
  website: "Website",
  required: "(required)",
  emailNote: "Never shown to anyone.",
  guestDetails: "Your details",
  remember: "Save my name, email and website in this browser for the next time I comment.",
  notify: "Notify me of new comments via email",
  markdownHint: "Markdown works: **bold**, *italic*, `code`, [link](https://…). Ctrl+Enter posts.",
  preview: "Preview",
  backToEdit: "Back to writing",
  previewEmpty: "Nothing to preview yet.",
  post: "Post Comment",
  loadMore: "Load more comments",
  moreReplies: { one: "Show 1 more reply", other: "Show {n} more replies" },
  newComments: { one: "1 new comment", other: "{n} new comments" },
  announceNew: "New comment from {name}",
  posted: "Your comment was posted.",
  postedPending: "Your comment was sent and awaits moderation.",
  offline: "Offline, reconnecting…",
  networkError: "The comment server could not be reached. Your text is kept: try again.",
  loadError: "The comments could not be loaded.",
  retry: "Try again",
  loading: "Loading comments…",
  locked: "Comments are closed.",
  moderated: "Comments are reviewed before they appear.",
  loginIntro: "Fill in your details below or pick an account to log in:",
  loginWith: "Log in with {provider}",
  signedIn: "You are commenting using your {provider} account.",
  logOut: "Log Out",
  logOutEverywhere: "Log out everywhere",
  change: "Change",
  loginFailed: "The sign-in did not complete. If no window opened, allow pop-ups for this site and try again.",
  // Relative times, as Intl.RelativeTimeFormat says them with numeric: "auto".
  now: "now",
  minutes: { one: "1 minute ago", other: "{n} minutes ago" },
  hours: { one: "1 hour ago", other: "{n} hours ago" },
  days: { one: "yesterday", other: "{n} days ago" },
  weeks: { one: "last week", other: "{n} weeks ago" },
  months: { one: "last month", other: "{n} months ago" },
  years: { one: "last year", other: "{n} years ago" },
};

export type Key = keyof typeof en;
type Dict = Record<Key, Entry>;

const fr: Dict = {
  heading: { zero: "Aucune réflexion pour l’instant sur « {title} »", one: "1 réflexion sur « {title} »", other: "{n} réflexions sur « {title} »" },
  thisPost: "cet article",
  comments: "Commentaires",
  likePost: "J’aime cet article",
  feed: "Flux des commentaires",
  onMastodon: "sur Mastodon",
  onBluesky: "sur Bluesky",
  remoteLikes: { one: "{n} j’aime", other: "{n} j’aime" },
  boosts: { one: "{n} partage", other: "{n} partages" },
  reposts: { one: "{n} republication", other: "{n} republications" },
  readingNow: { one: "{n} lecteur en ce moment", other: "{n} lecteurs en ce moment" },
  sortBy: "Trier par",
  sortOldest: "Plus anciens",
  sortNewest: "Plus récents",
  sortBest: "Meilleurs",
  likedPost: "Aimé",
  like: "J’aime",
  likedBy: { one: "Aimé par 1 personne", other: "Aimé par {n} personnes" },
  reply: "Répondre",
  replyTo: "Répondre à {name}",
  cancelReply: "Annuler la réponse",
  edit: "Modifier",
  delete: "Supprimer",
  confirmDelete: "Vraiment supprimer ?",
  save: "Enregistrer",
  cancel: "Annuler",
  mentionList: "Personnes dans cette discussion",
  myData: "Mes données",
  myDataReady: "Vos données sont en cours de téléchargement.",
  addPasskey: "Ajouter une clé d’accès",
  passkeyAdded: "Clé d’accès ajoutée : la prochaine fois, connectez-vous avec elle seule.",
  deleteMe: "Supprimer mon compte",
  deleteMeConfirm: "Vraiment supprimer votre compte et vos commentaires ici ?",
  deletedMe: "Votre compte et vos commentaires ici sont supprimés.",
  typing: { one: "Quelqu’un est en train de répondre…", other: "{n} personnes répondent…" },
  react: "Réagir",
  reactWith: "Réagir avec {emoji}",
  reactionCount: { one: "{emoji} {n} réaction", other: "{emoji} {n} réactions" },
  report: "Signaler",
  reportWhy: "Pourquoi signaler ce commentaire ?",
  reportSpam: "Spam ou publicité",
  reportAbuse: "Injurieux ou haineux",
  reportOffTopic: "Hors sujet",
  reportOther: "Autre chose",
  reportSend: "Envoyer le signalement",
  reported: "Signalé : merci, les modérateurs vont le regarder.",
  edited: "modifié",
  deleted: "Ce commentaire a été supprimé.",
  pending: "Votre commentaire est en attente de modération.",
  sending: "Envoi…",
  you: "vous",
  inReplyTo: "en réponse à {name}",
  anonymous: "Anonyme",
  leaveReply: "Laisser un commentaire",
  comment: "Commentaire",
  name: "Nom",
  email: "E-mail",
  website: "Site web",
  required: "(obligatoire)",
  emailNote: "Jamais montrée à personne.",
  guestDetails: "Vos coordonnées",
  remember: "Enregistrer mon nom, mon e-mail et mon site dans ce navigateur pour mon prochain commentaire.",
  notify: "M’avertir des nouveaux commentaires par e-mail",
  markdownHint: "Markdown accepté : **gras**, *italique*, `code`, [lien](https://…). Ctrl+Entrée pour publier.",
  preview: "Aperçu",
  backToEdit: "Revenir au texte",
  previewEmpty: "Rien à prévisualiser pour l’instant.",
  post: "Publier le commentaire",
  loadMore: "Charger plus de commentaires",
  moreReplies: { one: "Afficher 1 autre réponse", other: "Afficher {n} autres réponses" },
  newComments: { one: "1 nouveau commentaire", other: "{n} nouveaux commentaires" },
  announceNew: "Nouveau commentaire de {name}",
  posted: "Votre commentaire est publié.",
  postedPending: "Votre commentaire est envoyé et attend la modération.",
  offline: "Hors ligne, reconnexion…",
  networkError: "Le serveur de commentaires est injoignable. Votre texte est conservé : réessayez.",
  loadError: "Les commentaires n’ont pas pu être chargés.",
  retry: "Réessayer",
  loading: "Chargement des commentaires…",
  locked: "Les commentaires sont fermés.",
  moderated: "Les commentaires sont relus avant d’apparaître.",
  loginIntro: "Renseignez vos coordonnées ci-dessous ou choisissez un compte pour vous connecter :",
  loginWith: "Se connecter avec {provider}",
  signedIn: "Vous commentez avec votre compte {provider}.",
  logOut: "Déconnexion",
  logOutEverywhere: "Se déconnecter partout",
  change: "Changer",
  loginFailed: "La connexion n’a pas abouti. Si aucune fenêtre ne s’est ouverte, autorisez les fenêtres pop-up pour ce site et réessayez.",
  now: "maintenant",
  minutes: { one: "il y a 1 minute", other: "il y a {n} minutes" },
  hours: { one: "il y a 1 heure", other: "il y a {n} heures" },
  days: { one: "hier", other: "il y a {n} jours" },
  weeks: { one: "la semaine dernière", other: "il y a {n} semaines" },
  months: { one: "le mois dernier", other: "il y a {n} mois" },
  years: { one: "l’année dernière", other: "il y a {n} ans" },
};

const de: Dict = {
  heading: { zero: "Noch keine Gedanken zu „{title}“", one: "1 Gedanke zu „{title}“", other: "{n} Gedanken zu „{title}“" },
  thisPost: "diesem Beitrag",
  comments: "Kommentare",
  likePost: "Beitrag gefällt mir",
  feed: "Kommentar-Feed",
  onMastodon: "auf Mastodon",
  onBluesky: "auf Bluesky",
  remoteLikes: { one: "{n} Like", other: "{n} Likes" },
  boosts: { one: "{n} Boost", other: "{n} Boosts" },
  reposts: { one: "{n} Repost", other: "{n} Reposts" },
  readingNow: { one: "{n} liest gerade", other: "{n} lesen gerade" },
  sortBy: "Sortieren nach",
  sortOldest: "Älteste",
  sortNewest: "Neueste",
  sortBest: "Beste",
  likedPost: "Gefällt mir",
  like: "Gefällt mir",
  likedBy: { one: "Gefällt 1 Person", other: "Gefällt {n} Personen" },
  reply: "Antworten",
  replyTo: "Antwort an {name}",
  cancelReply: "Antwort abbrechen",
  edit: "Bearbeiten",
  delete: "Löschen",
  confirmDelete: "Wirklich löschen?",
  save: "Speichern",
  cancel: "Abbrechen",
  mentionList: "Personen in dieser Diskussion",
  myData: "Meine Daten",
  myDataReady: "Deine Daten werden heruntergeladen.",
  addPasskey: "Passkey hinzufügen",
  passkeyAdded: "Passkey hinzugefügt: melde dich nächstes Mal nur damit an.",
  deleteMe: "Mein Konto löschen",
  deleteMeConfirm: "Konto und Kommentare hier wirklich löschen?",
  deletedMe: "Dein Konto und deine Kommentare hier sind gelöscht.",
  typing: { one: "Jemand antwortet gerade …", other: "{n} Personen antworten gerade …" },
  react: "Reagieren",
  reactWith: "Mit {emoji} reagieren",
  reactionCount: { one: "{emoji} {n} Reaktion", other: "{emoji} {n} Reaktionen" },
  report: "Melden",
  reportWhy: "Warum meldest du diesen Kommentar?",
  reportSpam: "Spam oder Werbung",
  reportAbuse: "Beleidigend oder hasserfüllt",
  reportOffTopic: "Themenfremd",
  reportOther: "Etwas anderes",
  reportSend: "Meldung senden",
  reported: "Gemeldet: danke, die Moderation sieht es sich an.",
  edited: "bearbeitet",
  deleted: "Dieser Kommentar wurde gelöscht.",
  pending: "Dein Kommentar wartet auf Freischaltung.",
  sending: "Wird gesendet …",
  you: "du",
  inReplyTo: "als Antwort auf {name}",
  anonymous: "Anonym",
  leaveReply: "Schreibe einen Kommentar",
  comment: "Kommentar",
  name: "Name",
  email: "E-Mail",
  website: "Website",
  required: "(Pflichtfeld)",
  emailNote: "Wird niemandem angezeigt.",
  guestDetails: "Deine Angaben",
  remember: "Meinen Namen, meine E-Mail-Adresse und meine Website in diesem Browser für den nächsten Kommentar speichern.",
  notify: "Benachrichtige mich über neue Kommentare per E-Mail",
  markdownHint: "Markdown geht: **fett**, *kursiv*, `Code`, [Link](https://…). Strg+Enter sendet.",
  preview: "Vorschau",
  backToEdit: "Zurück zum Text",
  previewEmpty: "Noch nichts für die Vorschau.",
  post: "Kommentar abschicken",
  loadMore: "Weitere Kommentare laden",
  moreReplies: { one: "1 weitere Antwort zeigen", other: "{n} weitere Antworten zeigen" },
  newComments: { one: "1 neuer Kommentar", other: "{n} neue Kommentare" },
  announceNew: "Neuer Kommentar von {name}",
  posted: "Dein Kommentar wurde veröffentlicht.",
  postedPending: "Dein Kommentar wurde gesendet und wartet auf Freischaltung.",
  offline: "Offline, Verbindung wird wiederhergestellt …",
  networkError: "Der Kommentar-Server ist nicht erreichbar. Dein Text bleibt erhalten: versuche es noch einmal.",
  loadError: "Die Kommentare konnten nicht geladen werden.",
  retry: "Erneut versuchen",
  loading: "Kommentare werden geladen …",
  locked: "Die Kommentare sind geschlossen.",
  moderated: "Kommentare werden vor dem Erscheinen geprüft.",
  loginIntro: "Gib unten deine Angaben ein oder wähle ein Konto zum Anmelden:",
  loginWith: "Mit {provider} anmelden",
  signedIn: "Du kommentierst mit deinem {provider}-Konto.",
  logOut: "Abmelden",
  logOutEverywhere: "Überall abmelden",
  change: "Ändern",
  loginFailed: "Die Anmeldung wurde nicht abgeschlossen. Wenn sich kein Fenster geöffnet hat, erlaube Pop-ups für diese Seite und versuche es noch einmal.",
  now: "jetzt",
  minutes: { one: "vor 1 Minute", other: "vor {n} Minuten" },
  hours: { one: "vor 1 Stunde", other: "vor {n} Stunden" },
  days: { one: "gestern", other: "vor {n} Tagen" },
  weeks: { one: "letzte Woche", other: "vor {n} Wochen" },
  months: { one: "letzten Monat", other: "vor {n} Monaten" },
  years: { one: "letztes Jahr", other: "vor {n} Jahren" },
};

const DICTS: Record<string, Dict> = { en, fr, de };

/** The first supported language among the asked-for one and the browser's. */
export function pickLanguage(asked: string, browser: readonly string[]): string {
  for (const tag of [asked, ...browser]) {
    const base = (tag || "").toLowerCase().split(/[-_]/)[0];
    if (base in DICTS) return base;
  }
  return "en";
}

export interface I18n {
  lang: string;
  t(key: Key, vars?: Record<string, string | number>): string;
  relative(date: Date, now: number): string;
  /** The exact date and time (for hover titles), or null until loadExact() ran. */
  exact(date: Date): string | null;
  /** Make exact() answer from now on. Creating the formatter takes 20-60 ms in
   * a fresh renderer (it loads ICU data), so it waits until the comments show. */
  loadExact(): void;
}

// Unit sizes for relative times, largest first, in seconds.
const UNITS: [Key, number][] = [
  ["years", 31536000], ["months", 2592000], ["weeks", 604800], ["days", 86400], ["hours", 3600], ["minutes", 60],
];

export function makeI18n(lang: string): I18n {
  const dict = DICTS[lang] || en;
  const plural = new Intl.PluralRules(lang);
  // Intl.NumberFormat costs ~70 ms to create in a fresh renderer (it loads ICU
  // number data), which is most of a thread's first render: small numbers, the
  // usual case, read the same in our languages without it.
  let number: Intl.NumberFormat | null = null;
  const formatNumber = (n: number): string =>
    Math.abs(n) < 1000 && Number.isInteger(n) ? String(n) : (number ||= new Intl.NumberFormat(lang)).format(n);
  // Relative times come from the dictionaries, not Intl.RelativeTimeFormat: creating
  // one took 30-110 ms in the iframe's fresh renderer (it loads ICU number data),
  // a fifth of the time to show a thread (bench/RESULTS.md, Widget).
  let dtf: Intl.DateTimeFormat | null = null;
  const t = (key: Key, vars: Record<string, string | number> = {}): string => {
    const entry = dict[key];
    let text: string;
    if (typeof entry === "string") text = entry;
    else {
      const n = Number(vars.n ?? 0);
      text = n === 0 && entry.zero ? entry.zero : plural.select(n) === "one" ? entry.one : entry.other;
    }
    if (!text.includes("{")) return text; // most strings: a first page asks for ~1,000 of them
    return text.replace(/\{(\w+)\}/g, (_, name: string) => {
      const v = vars[name];
      return typeof v === "number" ? formatNumber(v) : v ?? "";
    });
  };
  return {
    lang,
    t,
    relative(date, now) {
      // A time ahead of ours is the two clocks disagreeing: it was just posted.
      const ago = (now - date.getTime()) / 1000;
      for (const [unit, size] of UNITS) {
        if (ago >= size) return t(unit, { n: Math.round(ago / size) });
      }
      return t("now");
    },
    exact(date) {
      return dtf && dtf.format(date);
    },
    loadExact() {
      dtf ||= new Intl.DateTimeFormat(lang, { dateStyle: "long", timeStyle: "short" });
    },
  };
}
