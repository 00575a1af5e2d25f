"""Words shown to employees, in English and French. Unknown locales fall back to English."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "digest_subject": "Your {posts} to share this week",
        "digest_intro": "Hi {name}, here is what you may share this week. Nothing is posted unless you approve it.",
        "digest_open": "Review and share",
        "digest_impact": "Last week your posts earned {points} and brought {visits}. Thank you!",
        "digest_me": "Your page: scheduled and published posts",
        "digest_footer": "You get this email because your company uses Chorus.",
        "unsubscribe": "Unsubscribe from these emails",
        "shares_until": "Share until {date}",
        "page_title": "Share: {title}",
        "policy": "Sharing policy",
        "your_text": "Your text for {network}",
        "characters": "characters",
        "networks": "Networks",
        "connect": "Connect",
        "connected": "connected",
        "not_connected": "not connected yet",
        "when": "When",
        "when_now": "Now",
        "when_at": "At a time I choose",
        "when_spread": "Spread over the coming week",
        "time_zone": "Times are in {zone}.",
        "approve": "Approve and schedule",
        "decline": "Not for me",
        "decline_reason": "Reason (optional)",
        "confirm_title": "Scheduled",
        "confirm_intro": "This is exactly what will be posted, and when:",
        "cancel": "Cancel this post",
        "declined_title": "Noted",
        "declined_intro": "You declined this one. Nothing will be posted.",
        "newer_version": "This content was updated after you approved it. Your approved post stays exactly "
        "as shown; to share the new version instead, cancel it and approve again.",
        "cancelled_title": "Cancelled",
        "cancelled_intro": "Nothing will be posted for this network.",
        "me_title": "Your sharing",
        "me_pending": "To review",
        "me_scheduled": "Scheduled",
        "me_published": "Published",
        "me_nothing": "Nothing here yet.",
        "unsubscribe_title": "Unsubscribe",
        "unsubscribe_confirm": "Stop receiving the weekly digest?",
        "unsubscribe_button": "Unsubscribe",
        "unsubscribed": "You will not receive the weekly digest any more.",
        "error_title": "This link cannot be used",
        "greeting": "Hi {name},",
        "slack_post_as_shown": "Post as shown",
        "slack_edit_first": "Edit first",
        "slack_connect_first": "Connect first",
        "slack_open_page": "Open the page",
        "slack_approved": "Approved: posted as shown on {networks}, {time} ({zone}). You can cancel it on the page.",
        "slack_changed": "This content changed since this message. Nothing was posted: review the new version.",
        "slack_not_connected": "{reason}. Nothing was posted: connect it on the page, then approve.",
        "slack_gone": "This content was withdrawn. Nothing was posted.",
        "slack_already": "Already decided: see the page for what is scheduled.",
        "slack_refused": "Nothing was posted: {reason}. Open the page to review it.",
        "me_channel": "Where you get the weekly digest",
        "me_channel_email": "Email",
        "me_channel_slack": "Slack",
        "me_channel_both": "Email and Slack",
        "me_channel_save": "Save",
        "notice_reconnect_subject": "Reconnect {network} so your post can go out",
        "notice_reconnect_body": "We could not post on {network} for you: the connection expired or was revoked. "
        "Nothing was posted. Reconnect, then approve the post again.",
        "notice_failed_subject": "Your {network} post did not go out",
        "notice_failed_body": "{network} did not accept your post ({reason}). Nothing was posted. "
        "You can review it and approve it again.",
        "notice_unconfirmed_subject": "Please check whether your {network} post went out",
        "notice_unconfirmed_body": "We sent your post to {network}, but never got its answer, so we cannot "
        "tell whether it was published. We did not send it again, so it cannot appear twice. Please look at "
        "your {network} profile: if the post is not there, you can approve it again.",
        "notice_expiring_subject": "Your {network} connection ends on {date}",
        "notice_expiring_body": "{network} lets us post for you until {date}. Reconnect before then to keep "
        "scheduled posts going out.",
        "in_review": "Waiting for review",
        "in_review_intro": "Your company reviews edited texts before they are posted: nothing goes out until a "
        "reviewer approves your text exactly as you wrote it. You will get an email either way, and you can "
        "still cancel it.",
        "notice_review_approved_subject": "Your {network} post was approved",
        "notice_review_approved_body": "Your company's reviewer approved the text you wrote, unchanged. It "
        "will be posted on {network} on {time}. You can still cancel it on the post's page.",
        "notice_review_rejected_subject": "Your {network} post was not approved",
        "notice_review_rejected_body": "Your company's reviewer did not approve the text you wrote, so nothing "
        "was posted on {network}. Their note: {reason}. You can rewrite it and approve it again.",
        "notice_review_lapsed_subject": "Your {network} post could not go out",
        "notice_review_lapsed_body": "Your post waited for review and can no longer go out on {network}: "
        "{reason}. Nothing was posted.",
        "review_lapsed_closed": "the content's sharing period ended before it was reviewed",
        "review_lapsed_changed": "the content was updated or withdrawn meanwhile; review the new version",
        "notice_action_review": "Review the post",
        "notice_action_reconnect": "Reconnect",
        "connect_title": "Connect {network}",
        "connect_intro": "You will sign in on {network} and allow Chorus to post what you approve, and only that.",
        "connect_button": "Continue to {network}",
        "mastodon_instance": "Your Mastodon server",
        "app_password_intro": "Chorus posts to {network} with an app password: a password {network} makes for one "
        "app, which can post but cannot change your account, and which you can revoke at any time. Never enter "
        "your main password here.",
        "app_password_howto": "In {network}, open Settings, then Privacy and security, then App passwords; add one "
        "named Chorus and paste it below. It looks like xxxx-xxxx-xxxx-xxxx.",
        "account_handle": "Your {network} handle",
        "app_password": "App password",
        "app_password_button": "Connect {network}",
        "atproto_intro": "Give your {network} handle: you will sign in on your {network} server and allow Chorus "
        "to post what you approve, and only that. You will be asked to sign in again every two weeks.",
        "atproto_button": "Continue to {network}",
        "app_password_fallback": "Or connect with an app password",
        "disconnect": "Disconnect",
        "connected_title": "{network} is connected",
        "back": "Back to your page",
        "points_earned": "earned in all",
        "rank_this_month": "#{rank} this month with {points}",
        "top_percent_this_month": "Top {percent}% of the {among} people with points this month, with {points}",
        "beyond_this_month": "Beyond #{limit} this month, with {points}",
        "you": "You",
        "hidden_from_boards": "You are hidden from the leaderboards.",
        "hide_me": "Hide me from leaderboards",
        "show_me": "Show me on leaderboards",
        "impact_clicks": "Your posts brought {visits}.",
        "rewards": "Rewards",
        "out_of_stock": "out of stock",
        "redeem": "Redeem",
        "my_data": "Your data",
        "my_data_intro": "Everything Chorus holds about you for your company, in one file: your profile, "
        "what you approved (the exact texts), your publications, points, rewards and visits per post.",
        "download_my_data": "Download my data",
        "digest_time": "Your weekly email",
        "digest_time_intro": "It arrives on this day and at this time, in your time zone ({zone}). "
        "You get it at most once a week, even if you change the day.",
        "digest_time_day": "Day",
        "digest_time_at": "Time",
        "digest_time_company": "(your company's choice)",
        "digest_time_save": "Save",
        "digest_time_invalid": "Choose a working day and a time from 6:00 AM to 6:00 PM.",
        "day_MON": "Monday",
        "day_TUE": "Tuesday",
        "day_WED": "Wednesday",
        "day_THU": "Thursday",
        "day_FRI": "Friday",
        "day_SAT": "Saturday",
        "day_SUN": "Sunday",
        "logo_alt": "{company} logo",
        "preview": "Preview on {network}",
        "preview_note": "As it will appear; the link is your own short link, which counts your visits.",
        "disclosure_added": "added to say you work here and may earn points for sharing (as endorsement "
        "rules ask). Please keep it.",
        "disclosure_required": "must stay in your text: your company requires it on every post, to say you "
        "work here and may earn points for sharing.",
        "disclosure_missing": "Keep {disclosure} in your text: your company requires it.",
        "approved_title": "Done: your post is scheduled",
        "approved_intro": "Nothing else to do. You can still cancel it below until it goes out.",
    },
    "fr": {
        "digest_subject": "{posts} à partager cette semaine",
        "digest_intro": (
            "Bonjour {name}, voici ce que vous pouvez partager cette semaine. Rien n'est publié sans votre accord."
        ),
        "digest_open": "Relire et partager",
        "digest_impact": "La semaine dernière, vos publications ont rapporté {points} et {visits}. Merci !",
        "digest_me": "Votre page : publications prévues et publiées",
        "digest_footer": "Vous recevez cet e-mail car votre entreprise utilise Chorus.",
        "unsubscribe": "Se désabonner de ces e-mails",
        "shares_until": "À partager avant le {date}",
        "page_title": "Partager : {title}",
        "policy": "Règles de partage",
        "your_text": "Votre texte pour {network}",
        "characters": "caractères",
        "networks": "Réseaux",
        "connect": "Connecter",
        "connected": "connecté",
        "not_connected": "pas encore connecté",
        "when": "Quand",
        "when_now": "Maintenant",
        "when_at": "À l'heure que je choisis",
        "when_spread": "Étaler sur la semaine à venir",
        "time_zone": "Heures affichées pour {zone}.",
        "approve": "Approuver et programmer",
        "decline": "Pas pour moi",
        "decline_reason": "Raison (facultatif)",
        "confirm_title": "Programmé",
        "confirm_intro": "Voici exactement ce qui sera publié, et quand :",
        "cancel": "Annuler cette publication",
        "declined_title": "C'est noté",
        "declined_intro": "Vous avez refusé ce contenu. Rien ne sera publié.",
        "newer_version": "Ce contenu a été mis à jour après votre approbation. Votre publication approuvée "
        "reste exactement telle qu'affichée ; pour partager la nouvelle version, annulez-la et approuvez à nouveau.",
        "cancelled_title": "Annulé",
        "cancelled_intro": "Rien ne sera publié sur ce réseau.",
        "me_title": "Vos partages",
        "me_pending": "À relire",
        "me_scheduled": "Programmés",
        "me_published": "Publiés",
        "me_nothing": "Rien pour l'instant.",
        "unsubscribe_title": "Désabonnement",
        "unsubscribe_confirm": "Ne plus recevoir le résumé hebdomadaire ?",
        "unsubscribe_button": "Me désabonner",
        "unsubscribed": "Vous ne recevrez plus le résumé hebdomadaire.",
        "error_title": "Ce lien ne peut pas être utilisé",
        "greeting": "Bonjour {name},",
        "slack_post_as_shown": "Publier tel quel",
        "slack_edit_first": "Modifier d'abord",
        "slack_connect_first": "Connecter d'abord",
        "slack_open_page": "Ouvrir la page",
        "slack_approved": "Approuvé : publié tel quel sur {networks}, {time} ({zone}). "
        "Vous pouvez l'annuler sur la page.",
        "slack_changed": "Ce contenu a changé depuis ce message. Rien n'a été publié : relisez la nouvelle version.",
        "slack_not_connected": "{reason}. Rien n'a été publié : connectez-le sur la page, puis approuvez.",
        "slack_gone": "Ce contenu a été retiré. Rien n'a été publié.",
        "slack_already": "Déjà décidé : voyez sur la page ce qui est prévu.",
        "slack_refused": "Rien n'a été publié : {reason}. Ouvrez la page pour le revoir.",
        "me_channel": "Où recevoir le récapitulatif de la semaine",
        "me_channel_email": "E-mail",
        "me_channel_slack": "Slack",
        "me_channel_both": "E-mail et Slack",
        "me_channel_save": "Enregistrer",
        "notice_reconnect_subject": "Reconnectez {network} pour que votre publication parte",
        "notice_reconnect_body": "Nous n'avons pas pu publier sur {network} : la connexion a expiré ou a été "
        "révoquée. Rien n'a été publié. Reconnectez-vous, puis approuvez à nouveau la publication.",
        "notice_failed_subject": "Votre publication {network} n'est pas partie",
        "notice_failed_body": "{network} a refusé votre publication ({reason}). Rien n'a été publié. "
        "Vous pouvez la relire et l'approuver à nouveau.",
        "notice_unconfirmed_subject": "Vérifiez si votre publication {network} est partie",
        "notice_unconfirmed_body": "Nous avons envoyé votre publication à {network} sans jamais recevoir sa "
        "réponse : nous ne savons pas si elle a été publiée. Nous ne l'avons pas renvoyée, elle ne peut donc "
        "pas apparaître deux fois. Regardez votre profil {network} : si elle n'y est pas, vous pouvez "
        "l'approuver à nouveau.",
        "notice_expiring_subject": "Votre connexion {network} se termine le {date}",
        "notice_expiring_body": "{network} nous permet de publier pour vous jusqu'au {date}. Reconnectez-vous "
        "avant pour que vos publications programmées partent.",
        "in_review": "En attente de relecture",
        "in_review_intro": "Votre entreprise relit les textes modifiés avant leur publication : rien ne part "
        "avant qu'une personne chargée de la relecture valide votre texte tel que vous l'avez écrit. Vous "
        "recevrez un e-mail dans les deux cas, et vous pouvez encore l'annuler.",
        "notice_review_approved_subject": "Votre publication {network} a été validée",
        "notice_review_approved_body": "La personne chargée de la relecture dans votre entreprise a validé "
        "votre texte, sans le modifier. Il sera publié sur {network} le {time}. Vous pouvez encore "
        "l'annuler sur la page de la publication.",
        "notice_review_rejected_subject": "Votre publication {network} n'a pas été validée",
        "notice_review_rejected_body": "La personne chargée de la relecture dans votre entreprise n'a pas "
        "validé votre texte : rien n'a été publié sur {network}. Sa note : {reason}. Vous pouvez le "
        "réécrire et l'approuver à nouveau.",
        "notice_review_lapsed_subject": "Votre publication {network} ne peut plus partir",
        "notice_review_lapsed_body": "Votre publication attendait une relecture et ne peut plus partir sur "
        "{network} : {reason}. Rien n'a été publié.",
        "review_lapsed_closed": "la période de partage du contenu s'est terminée avant la relecture",
        "review_lapsed_changed": "le contenu a été modifié ou retiré entre-temps ; relisez la nouvelle version",
        "notice_action_review": "Relire la publication",
        "notice_action_reconnect": "Reconnecter",
        "connect_title": "Connecter {network}",
        "connect_intro": "Vous allez vous identifier sur {network} et autoriser Chorus à publier ce que vous "
        "approuvez, et seulement cela.",
        "connect_button": "Continuer vers {network}",
        "mastodon_instance": "Votre serveur Mastodon",
        "app_password_intro": "Chorus publie sur {network} avec un mot de passe d'application : un mot de passe "
        "que {network} crée pour une seule application, qui peut publier mais pas modifier votre compte, et que "
        "vous pouvez révoquer à tout moment. N'entrez jamais ici votre mot de passe principal.",
        "app_password_howto": "Dans {network}, ouvrez Paramètres, puis Confidentialité et sécurité, puis Mots de "
        "passe d'application ; ajoutez-en un nommé Chorus et collez-le ci-dessous. Il a la forme "
        "xxxx-xxxx-xxxx-xxxx.",
        "account_handle": "Votre identifiant {network}",
        "app_password": "Mot de passe d'application",
        "app_password_button": "Connecter {network}",
        "atproto_intro": "Indiquez votre identifiant {network} : vous vous connecterez sur votre serveur {network} "
        "et autoriserez Chorus à publier ce que vous approuvez, et seulement cela. Il faudra vous reconnecter "
        "toutes les deux semaines.",
        "atproto_button": "Continuer vers {network}",
        "app_password_fallback": "Ou connectez-vous avec un mot de passe d'application",
        "disconnect": "Déconnecter",
        "connected_title": "{network} est connecté",
        "back": "Retour à votre page",
        "points_earned": "gagnés au total",
        "rank_this_month": "{rank}e ce mois-ci avec {points}",
        "top_percent_this_month": "Dans les {percent} % premiers des {among} personnes qui ont des points ce mois-ci, "
        "avec {points}",
        "beyond_this_month": "Au-delà de la {limit}e place ce mois-ci, avec {points}",
        "you": "Vous",
        "hidden_from_boards": "Vous êtes masqué des classements.",
        "hide_me": "Me masquer des classements",
        "show_me": "M'afficher dans les classements",
        "impact_clicks": "Vos publications ont amené {visits}.",
        "rewards": "Récompenses",
        "out_of_stock": "épuisé",
        "redeem": "Échanger",
        "my_data": "Vos données",
        "my_data_intro": "Tout ce que Chorus conserve sur vous pour votre entreprise, en un fichier : votre "
        "profil, ce que vous avez approuvé (les textes exacts), vos publications, points, récompenses et visites.",
        "download_my_data": "Télécharger mes données",
        "digest_time": "Votre e-mail de la semaine",
        "digest_time_intro": "Il arrive ce jour-là à cette heure, dans votre fuseau horaire ({zone}). "
        "Vous le recevez au plus une fois par semaine, même si vous changez de jour.",
        "digest_time_day": "Jour",
        "digest_time_at": "Heure",
        "digest_time_company": "(le choix de votre entreprise)",
        "digest_time_save": "Enregistrer",
        "digest_time_invalid": "Choisissez un jour ouvré et une heure entre 06:00 et 18:00.",
        "day_MON": "lundi",
        "day_TUE": "mardi",
        "day_WED": "mercredi",
        "day_THU": "jeudi",
        "day_FRI": "vendredi",
        "day_SAT": "samedi",
        "day_SUN": "dimanche",
        "logo_alt": "Logo {company}",
        "preview": "Aperçu sur {network}",
        "preview_note": "Tel qu'il apparaîtra ; le lien est votre lien court, qui compte vos visites.",
        "disclosure_added": "ajouté pour indiquer que vous travaillez ici et pouvez gagner des points en "
        "partageant (comme le demandent les règles sur les recommandations). Merci de le garder.",
        "disclosure_required": "doit rester dans votre texte : votre entreprise l'exige sur chaque publication, "
        "pour indiquer que vous travaillez ici et pouvez gagner des points en partageant.",
        "disclosure_missing": "Gardez {disclosure} dans votre texte : votre entreprise l'exige.",
        "approved_title": "C'est fait : votre publication est programmée",
        "approved_intro": "Rien d'autre à faire. Vous pouvez encore l'annuler ci-dessous tant qu'elle "
        "n'est pas partie.",
    },
}


# Each counted noun, singular then plural. English takes the singular for 1 only, French for 0
# and 1 ("0 visite", "1 visite", "2 visites": CLDR's plural rule "one" is i = 0,1 in French).
COUNTED: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "posts": ("post", "posts"),
        "visits": ("visit", "visits"),
        "points": ("point", "points"),
        "points_to_spend": ("point to spend", "points to spend"),
    },
    "fr": {
        "posts": ("contenu", "contenus"),
        "visits": ("visite", "visites"),
        "points": ("point", "points"),
        "points_to_spend": ("point à dépenser", "points à dépenser"),
    },
}


def plural_word(locale: str, noun: str, count: int) -> str:
    """The word for ``count`` of ``noun`` in the locale's language."""
    language = language_of(locale)
    singular = abs(count) < 2 if language == "fr" else abs(count) == 1
    one, many = COUNTED[language][noun]
    return one if singular else many


def counted(locale: str, noun: str, count: int) -> str:
    """``1 visit``, ``2 visits``; ``0 visite``, ``1 visite``, ``2 visites``."""
    return f"{count} {plural_word(locale, noun, count)}"


class Counter:
    """``counted`` and ``plural_word`` for one locale, as templates call them."""

    def __init__(self, locale: str) -> None:
        self._locale = locale

    def __call__(self, noun: str, count: int) -> str:
        return counted(self._locale, noun, count)

    def word(self, noun: str, count: int) -> str:
        return plural_word(self._locale, noun, count)


# Day and month names for dates shown to employees (pages and emails), per language.
_DAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "fr": ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."),
}
_MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "fr": ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."),
}


def local_datetime(moment: datetime, zone: str, locale: str) -> str:
    """``Tue 1 Dec 2026, 10:00`` / ``mar. 1 déc. 2026, 10:00``: in the employee's zone, their
    language's names, 24-hour time (both languages' usual form in a company setting)."""
    local = moment.astimezone(ZoneInfo(zone))
    language = language_of(locale)
    day, month = _DAYS[language][local.weekday()], _MONTHS[language][local.month - 1]
    return f"{day} {local.day} {month} {local.year}, {local:%H:%M}"


def notice_words(t: dict[str, str], kind: str, *, network: str, reason: str, date: str, time: str) -> tuple[str, str]:
    """A notice's subject and body. A lapsed review's reason is a word of ours (``closed``,
    ``changed``), said in the employee's language; any other reason is the words given."""
    if kind == "review_lapsed":
        reason = t.get(f"review_lapsed_{reason}", reason)
    words = {"network": network, "reason": reason, "date": date, "time": time}
    return t[f"notice_{kind}_subject"].format(**words), t[f"notice_{kind}_body"].format(**words)


def local_date(moment: datetime, zone: str, locale: str) -> str:
    """``1 Dec 2026`` / ``1 déc. 2026``."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local.day} {_MONTHS[language_of(locale)][local.month - 1]} {local.year}"


def language_of(locale: str) -> str:
    language = locale.split("-", maxsplit=1)[0].lower()
    return language if language in MESSAGES else "en"


def translator(locale: str) -> dict[str, str]:
    return MESSAGES[language_of(locale)]


def clock_time(at: time, locale: str) -> str:
    """A wall-clock time as the employee reads it: "9:15 AM" in English, "09:15" in French."""
    if language_of(locale) == "fr":
        return f"{at:%H:%M}"
    hour = at.hour % 12 or 12
    return f"{hour}:{at:%M} {'AM' if at.hour < 12 else 'PM'}"
