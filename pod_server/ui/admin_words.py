"""The words of the operator pages, in English and French (``translator`` looks here
first, then in the owner's pages' words and the pod browser's)."""

from __future__ import annotations

from pod_server.ui import i18n, words

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "admin_title": "Operator: accounts and pods",
        "admin_only": "Only this server's operators see these pages.",
        "admin_privacy": "These pages show counts and sizes only, never what a pod holds.",
        "accounts_heading": "Accounts",
        "pods_heading": "Pods",
        "no_accounts": "No account yet.",
        "no_pods_admin": "No pod yet.",
        "email": "Email",
        "created_on": "Created",
        "webids": "WebIDs",
        "pod": "Pod",
        "owner": "Owner",
        "used": "Used",
        "quota": "Quota",
        "status": "Status",
        "actions": "Actions",
        "active_status": "active",
        "suspended_tag": "suspended",
        "suspended_status": "since {date}",
        "default_quota": "server default ({size})",
        "no_quota": "no limit",
        "server_default": "the server's default",
        "new_quota": "New quota for {name}",
        "quota_hint": "bytes, or e.g. 500 MB, 2 GB; empty: the server's default",
        "set_quota": "Set quota",
        "suspend": "Suspend",
        "resume": "Resume",
        "delete_pod": "Delete…",
        "suspended_note": "The pod {name} is suspended: nobody can use it until it is resumed.",
        "resumed_note": "The pod {name} is active again.",
        "quota_note": "The quota of {name} is now {size}.",
        "pod_deleted_note": "The pod {name} and its owner's account are deleted.",
        "unchanged_note": "Nothing to change for {name}.",
        "delete_pod_title": "Delete the pod {name}?",
        "delete_pod_text": (
            "This deletes the pod {name} ({size}), everything in it, its audit log,"
            " and its owner's account ({email}) with any other pod the account owns. It"
            " cannot be undone."
        ),
        "delete_pod_confirm": "I understand: delete {name} and its owner's account",
        "delete_pod_button": "Delete forever",
        "back_to_admin": "Back to the operator page",
        "no_such_pod": "There is no pod named {name}.",
    },
    "fr": {
        "admin_title": "Exploitation : comptes et pods",
        "admin_only": "Seuls les exploitants de ce serveur voient ces pages.",
        "admin_privacy": (
            "Ces pages montrent des nombres et des tailles, jamais ce que contient un pod."
        ),
        "accounts_heading": "Comptes",
        "pods_heading": "Pods",
        "no_accounts": "Aucun compte pour l'instant.",
        "no_pods_admin": "Aucun pod pour l'instant.",
        "email": "Courriel",
        "created_on": "Créé le",
        "webids": "WebID",
        "pod": "Pod",
        "owner": "Propriétaire",
        "used": "Utilisé",
        "quota": "Quota",
        "status": "État",
        "actions": "Actions",
        "active_status": "actif",
        "suspended_tag": "suspendu",
        "suspended_status": "depuis le {date}",
        "default_quota": "par défaut du serveur ({size})",
        "no_quota": "sans limite",
        "server_default": "celui par défaut du serveur",
        "new_quota": "Nouveau quota de {name}",
        "quota_hint": "en octets, ou par ex. 500 MB, 2 GB ; vide : celui du serveur",
        "set_quota": "Fixer le quota",
        "suspend": "Suspendre",
        "resume": "Rétablir",
        "delete_pod": "Supprimer…",
        "suspended_note": (
            "Le pod {name} est suspendu : personne ne peut l'utiliser avant son rétablissement."
        ),
        "resumed_note": "Le pod {name} est de nouveau actif.",
        "quota_note": "Le quota de {name} est maintenant {size}.",
        "pod_deleted_note": "Le pod {name} et le compte de son propriétaire sont supprimés.",
        "unchanged_note": "Rien à changer pour {name}.",
        "delete_pod_title": "Supprimer le pod {name} ?",
        "delete_pod_text": (
            "Cela supprime le pod {name} ({size}), tout ce qu'il contient, son journal"
            " d'activité, et le compte de son propriétaire ({email}) avec tout autre pod de ce"
            " compte. C'est définitif."
        ),
        "delete_pod_confirm": "J'ai compris : supprimer {name} et le compte de son propriétaire",
        "delete_pod_button": "Supprimer définitivement",
        "back_to_admin": "Retour à la page d'exploitation",
        "no_such_pod": "Aucun pod ne s'appelle {name}.",
    },
}


def translator(lang: str) -> i18n.Translate:
    """``t(key, **values)``: these pages' words, else the other pages' (KeyError if none)."""
    return i18n.layered(MESSAGES, lang, words.translator(lang))
