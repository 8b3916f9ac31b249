"""The words of the sharing page and the profile card, in English and French.

Kept apart from ``i18n.MESSAGES`` (which merges them in) so that the pages' catalogue
and these pages can grow without touching each other's lines.
"""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "sharing": "Sharing",
        "sharing_of": "Sharing of {name}",
        "share_link": "Sharing",
        "level_see": "can see",
        "level_add": "can see and add",
        "level_edit": "can see and edit",
        "level_manage": "can see, edit and manage sharing",
        "mode_read": "can see",
        "mode_append": "can add",
        "mode_write": "can edit",
        "mode_control": "can manage sharing",
        "no_modes": "nothing (the rule names no access it knows)",
        "who_person": "Person",
        "who_group": "Group",
        "who_app": "App (by its client id)",
        "app_prefix": "The app",
        "through_clients": "only through the app(s) {clients}",
        "app_no_manage": (
            'An app can be given "can see", "can see and add" or "can see and edit",'
            " not the management of sharing: give that to a person."
        ),
        "bad_client_id": (
            "Write the app's client id: the full address of its Client ID Document, starting"
            " with https:// (for example https://app.example/id)."
        ),
        "who_everyone": "Everyone",
        "who_signed_in": "Everyone signed in",
        "everyone_text": "Everyone, even without signing in",
        "signed_in_text": "Everyone who is signed in (any WebID)",
        "group_members": "Members of the group",
        "through_apps": "only through the app(s) at {origins}",
        "who_has_access": "Who has access now",
        "nobody": "Nobody but the owners of this storage has access.",
        "who": "Who",
        "access": "Access",
        "where_from": "Given by",
        "this_item": "the sharing settings of this item",
        "inherited_from": "the folder {folder} (inherited)",
        "change_there": "change it there",
        "copied_from": "copied from the folder's settings",
        "consent_given": "your consent to {recipient}",
        "consent_until": "until {date}",
        "consent_ended": "which ended on {date} (it no longer gives access)",
        "consent_open": "see the consent",
        "consent_note": "Access given by a consent is withdrawn from the consent itself.",
        "remove": "Remove",
        "remove_who": "Remove the access of {who}",
        "owners": "Owners",
        "owners_text": (
            "The owners of this storage can always see, edit and manage sharing of everything"
            " in it."
        ),
        "own_settings": (
            "This item has its own sharing settings: those of the folders above it do not apply."
        ),
        "inherits_text": (
            "This item has no sharing settings of its own: it follows those of the folder"
            " {folder}. Your first change here gives it its own settings, starting with a copy"
            " of those, so nobody loses access."
        ),
        "no_settings": "Nothing above this item gives any access: only the owners have access.",
        "give_access": "Give access",
        "who_kind": "To whom",
        "webid_or_group": "WebID of the person, address of the group, or client id of the app",
        "webid_hint": (
            "For example https://alice.example/profile/card#me for a person, or"
            " https://app.example/id for an app: whoever signs in to that app gets the access"
            " through it, and only through it."
        ),
        "level": "Access",
        "app_origin": "Only through the web app at this address (optional)",
        "app_hint": (
            "Its origin, for example https://app.example: the person or group then has the"
            " access only in that app. Not needed when the access is given to an app."
        ),
        "give": "Give access",
        "folder_scope": "Access to a folder covers everything inside it.",
        "contents_only": "(only what is inside)",
        "and_contents": "(and everything inside)",
        "shared": "Access given.",
        "unshared": "Access removed.",
        "bad_kind": "Choose to whom you give access.",
        "bad_level": "Choose which access you give.",
        "bad_webid": "Write the full address (WebID) starting with https:// or http://.",
        "bad_origin": "Write the app's address as https://host (with no path).",
        "not_found_rule": "Nothing to remove: that access is not given here.",
        "consent_rule": ("This access was given by a consent; withdraw the consent to remove it."),
        "lock_out": (
            "This change was not made: it would take away your own access ({modes}) to your"
            " storage {url}. You would no longer be able to use your pod. Give the access to"
            " someone else without removing your own."
        ),
        "lock_out_control": (
            "This change was not made: you would no longer be able to manage sharing of {url}."
        ),
        "lock_out_group": (
            "This change was not made: {person} has access ({modes}) to the storage {url}"
            " only as a member of the group {group}, and this change takes it away: an owner"
            " could no longer use the pod. Give that access to the owner directly first, then"
            " change the group's."
        ),
        "lock_out_control_group": (
            "This change was not made: you manage sharing of {url} only as a member of the"
            " group {group}, and this change takes that away."
        ),
        "not_changed": "Change not made",
        "back_to_sharing": "Back to the sharing page",
        "no_sharing_here": "The sharing settings themselves have no sharing page.",
        "back_to_item": "Back to {name}",
        "profile": "Profile of {name}",
        "profile_photo": "Photo of {name}",
        "profile_photo_link": "Photo (on another site)",
        "profile_links": "Links",
        "profile_storage": "Storage (pod)",
        "profile_inbox": "Inbox",
        "profile_homepage": "Home page",
        "profile_email": "Email",
        "profile_issuer": "Signs in with",
        "profile_knows": "Knows",
        "profile_webid": "WebID",
        "profile_all": "All the statements of this profile",
        "profile_none": "This profile gives no name.",
    },
    "fr": {
        "sharing": "Partage",
        "sharing_of": "Partage de {name}",
        "share_link": "Partage",
        "level_see": "peut voir",
        "level_add": "peut voir et ajouter",
        "level_edit": "peut voir et modifier",
        "level_manage": "peut voir, modifier et gérer le partage",
        "mode_read": "peut voir",
        "mode_append": "peut ajouter",
        "mode_write": "peut modifier",
        "mode_control": "peut gérer le partage",
        "no_modes": "rien (la règle ne donne aucun accès connu)",
        "who_person": "Personne",
        "who_group": "Groupe",
        "who_app": "Application (par son identifiant client)",
        "app_prefix": "L'application",
        "through_clients": "seulement par l'application ou les applications {clients}",
        "app_no_manage": (
            "Une application peut recevoir « peut voir », « peut voir et ajouter » ou « peut"
            " voir et modifier », pas la gestion du partage : donnez-la à une personne."
        ),
        "bad_client_id": (
            "Écrivez l'identifiant client de l'application : l'adresse complète de son"
            " document Client ID, commençant par https:// (par exemple https://app.example/id)."
        ),
        "who_everyone": "Tout le monde",
        "who_signed_in": "Toute personne connectée",
        "everyone_text": "Tout le monde, même sans se connecter",
        "signed_in_text": "Toute personne connectée (n'importe quel WebID)",
        "group_members": "Les membres du groupe",
        "through_apps": "seulement par l'application ou les applications de {origins}",
        "who_has_access": "Qui a accès maintenant",
        "nobody": "Personne d'autre que les propriétaires de cet espace n'a accès.",
        "who": "Qui",
        "access": "Accès",
        "where_from": "Donné par",
        "this_item": "les réglages de partage de cet élément",
        "inherited_from": "le dossier {folder} (hérité)",
        "change_there": "le modifier là-bas",
        "copied_from": "copiés des réglages du dossier",
        "consent_given": "votre consentement donné à {recipient}",
        "consent_until": "jusqu'au {date}",
        "consent_ended": "qui a pris fin le {date} (il ne donne plus accès)",
        "consent_open": "voir le consentement",
        "consent_note": "Un accès donné par consentement se retire depuis le consentement.",
        "remove": "Retirer",
        "remove_who": "Retirer l'accès de {who}",
        "owners": "Propriétaires",
        "owners_text": (
            "Les propriétaires de cet espace peuvent toujours tout y voir, modifier et gérer"
            " le partage."
        ),
        "own_settings": (
            "Cet élément a ses propres réglages de partage : ceux des dossiers au-dessus ne"
            " s'appliquent pas."
        ),
        "inherits_text": (
            "Cet élément n'a pas de réglages de partage propres : il suit ceux du dossier"
            " {folder}. Votre première modification lui donne ses propres réglages, en"
            " commençant par une copie de ceux-ci, pour que personne ne perde son accès."
        ),
        "no_settings": (
            "Rien au-dessus de cet élément ne donne d'accès : seuls les propriétaires y ont accès."
        ),
        "give_access": "Donner accès",
        "who_kind": "À qui",
        "webid_or_group": (
            "WebID de la personne, adresse du groupe, ou identifiant client de l'application"
        ),
        "webid_hint": (
            "Par exemple https://alice.example/profile/card#me pour une personne, ou"
            " https://app.example/id pour une application : quiconque s'y connecte a l'accès"
            " par elle, et seulement par elle."
        ),
        "level": "Accès",
        "app_origin": "Seulement par l'application web à cette adresse (facultatif)",
        "app_hint": (
            "Son origine, par exemple https://app.example : la personne ou le groupe n'a alors"
            " l'accès que dans cette application. Inutile quand l'accès est donné à une"
            " application."
        ),
        "give": "Donner accès",
        "folder_scope": "L'accès à un dossier couvre tout ce qu'il contient.",
        "contents_only": "(seulement son contenu)",
        "and_contents": "(et tout son contenu)",
        "shared": "Accès donné.",
        "unshared": "Accès retiré.",
        "bad_kind": "Choisissez à qui vous donnez accès.",
        "bad_level": "Choisissez quel accès vous donnez.",
        "bad_webid": "Écrivez l'adresse complète (WebID) commençant par https:// ou http://.",
        "bad_origin": (
            "Écrivez l'adresse de l'application sous la forme https://hôte (sans chemin)."
        ),
        "not_found_rule": "Rien à retirer : cet accès n'est pas donné ici.",
        "consent_rule": (
            "Cet accès a été donné par un consentement ; retirez le consentement pour l'enlever."
        ),
        "lock_out": (
            "Cette modification n'a pas été faite : elle vous retirerait votre propre accès"
            " ({modes}) à votre espace {url}. Vous ne pourriez plus utiliser votre pod. Donnez"
            " l'accès à quelqu'un d'autre sans retirer le vôtre."
        ),
        "lock_out_control": (
            "Cette modification n'a pas été faite : vous ne pourriez plus gérer le partage de"
            " {url}."
        ),
        "lock_out_group": (
            "Cette modification n'a pas été faite : {person} n'a accès ({modes}) à l'espace"
            " {url} qu'en tant que membre du groupe {group}, et cette modification le lui"
            " retire : un propriétaire ne pourrait plus utiliser le pod. Donnez d'abord cet"
            " accès directement au propriétaire, puis modifiez celui du groupe."
        ),
        "lock_out_control_group": (
            "Cette modification n'a pas été faite : vous ne gérez le partage de {url} qu'en"
            " tant que membre du groupe {group}, et cette modification vous le retire."
        ),
        "not_changed": "Modification non faite",
        "back_to_sharing": "Retour à la page de partage",
        "no_sharing_here": "Les réglages de partage eux-mêmes n'ont pas de page de partage.",
        "back_to_item": "Retour à {name}",
        "profile": "Profil de {name}",
        "profile_photo": "Photo de {name}",
        "profile_photo_link": "Photo (sur un autre site)",
        "profile_links": "Liens",
        "profile_storage": "Espace de stockage (pod)",
        "profile_inbox": "Boîte de réception",
        "profile_homepage": "Page personnelle",
        "profile_email": "Courriel",
        "profile_issuer": "Se connecte avec",
        "profile_knows": "Connaît",
        "profile_webid": "WebID",
        "profile_all": "Toutes les déclarations de ce profil",
        "profile_none": "Ce profil ne donne pas de nom.",
    },
}
