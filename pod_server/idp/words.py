"""The identity provider's pages' words in English and French.

Layered over the header's words every page shares (``http.language.CHROME``); a unit
test checks both languages hold the same keys and placeholders.
"""

from __future__ import annotations

from pod_server.http.language import CHROME, Translate, layered

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "sign_in_title": "Sign in",
        "sign_in_to": "Sign in to continue to <strong>{app}</strong>.",
        "email": "Email",
        "password": "Password",
        "new_here": "New here?",
        "create_account_link": "Create an account",
        "wrong_credentials": "The email or password is wrong.",
        "too_many_sign_ins": "Too many failed sign-ins. Wait a few minutes, then try again.",
        "busy_title": "Busy",
        "busy": "The server is busy. Try again in a moment.",
        "bad_request_title": "Bad request",
        "bad_character": "The request holds a character not allowed.",
        "too_large_title": "Request too large",
        "too_large": "The request is too large.",
        "refused_title": "Refused",
        "expired_title": "Form expired",
        "cannot_continue": "Cannot continue",
        "invalid_app_request": "The app's request is not valid: {description} ({error}).",
        "signed_out_title": "Signed out",
        "signed_out": "You are signed out.",
        "sign_up_title": "Create an account",
        "pod_name": "Pod name",
        "pod_name_help": "Your pod and WebID will live under this name.",
        "password_help": "At least {n} characters.",
        "password_again": "Password again",
        "create_account": "Create account",
        "have_account": "I have an account",
        "too_many_sign_ups": "Too many sign-ups from your network. Try again later.",
        "passwords_differ": "The two passwords differ.",
        "pod_name_length": "Choose a pod name of 1 to {n} characters.",
        "pod_name_unusable": (
            "The pod name {name} is not usable: use 1 to 63 lower-case letters, digits or"
            " '-', not starting or ending with '-', and not a reserved name."
        ),
        "pod_name_taken": "A pod named {name} exists already: choose another name.",
        "allow_title": "Allow {app}?",
        "allow_heading": "Allow {app} to sign you in?",
        "asks_sign_in": "<strong>{app}</strong> asks to sign you in with your WebID.",
        "app": "App",
        "unverified": " (the app chose this name itself)",
        "return_to": "You will return to",
        "app_id": "App identifier",
        "app_can": "If you allow it, the app can",
        "remember": "Remember my decision for this app",
        "allow": "Allow",
        "deny": "Deny",
        "your_webid": "Your WebID:",
        "sign_in_as": "Sign in as",
        "scope_webid": "use your WebID to read and change data for you, wherever you have access",
        "scope_openid": "know who you are: your WebID",
        "scope_offline_access": (
            "keep this access while you are not using it, until you revoke it or it expires"
        ),
        "full_only": (
            "<strong>Full access.</strong> This app does not say what it needs, so it gets"
            " all the access you have: on every Solid server that trusts this provider, it"
            " can read and change whatever your WebID may, like you could."
        ),
        "asks_in_pod": "What it asks for in your pod",
        "choose_what": "Choose what {app} may do",
        "as_ticked": "What it asks for, as ticked below",
        "full_access": "Full access",
        "full_choice": (
            "Everything you can reach, on every server, like you could (the app's list"
            " above does not apply)"
        ),
        "own_only": "Only its own folder <code>{path}</code> (to read and change), nothing else",
        "nothing_beyond": "Nothing in your pod beyond what anyone may read",
        "no_pod_here": (
            "Your WebID has no pod on this server, so the folders above cannot be given here."
        ),
        "limits_note": (
            "Whatever you choose, the app can also read what anyone may read, such as your"
            " public profile. These limits hold on this server; other Solid servers do not"
            " know them and give the app what your WebID may do there."
        ),
        "mode_read": "read",
        "mode_change": "change",
        "mode_delete": "delete",
        "mode_add": "add to",
        "and": " and ",
        "kind_unplaced": (
            "data of the kind <code>{tree}</code> (this server cannot place it in your pod,"
            " so it will not be given)"
        ),
        "the_folder": "the folder <code>{path}</code>",
        "the_document": "the document <code>{path}</code>",
        "required": "required",
        "optional": "optional",
        "your_webids": "Your WebIDs",
        "your_pods": "Your pods",
        "pods_link": "Your pods: access requests, activity, apps and data",
        "change_password": "Change password",
        "used_of": "{used} of {limit}",
        "colon": ": ",
        "bad_email": "Enter an email address like name@example.org.",
        "email_taken": "An account with this email address exists already.",
        "sign_out_question": (
            "Sign out of this identity provider? Apps you signed in to keep the access"
            " they already have until it expires or you revoke it."
        ),
        "current_password": "Current password",
        "new_password": "New password",
        "new_password_again": "New password again",
        "too_many_attempts": "Too many failed attempts. Try later.",
        "current_wrong": "The current password is wrong.",
        "new_differ": "The two new passwords differ.",
        "password_changed_title": "Password changed",
        "password_changed": (
            "Your password has been changed, and every other sign-in of this account ended."
        ),
        "password_too_short": "Use a password of at least {n} characters.",
        "password_too_long": "Use a password of at most {n} characters.",
        "not_found_title": "Not found",
        "no_signup": "Sign-up is not available on this server.",
        "no_webid_title": "No WebID",
        "no_webid": "Your account has no WebID to sign in with.",
        "unknown_webid_title": "Unknown WebID",
        "unknown_webid": "Choose one of your own WebIDs.",
        "choose_access_title": "Choose the access",
        "choose_access": "Choose what the app may do.",
        "needs_unreadable": (
            "{app} declares access needs in its Client ID Document that this server cannot"
            " read: {problem}. Nothing was shared with it; the app's maker has to correct"
            " its document."
        ),
    },
    "fr": {
        "sign_in_title": "Connexion",
        "sign_in_to": "Connectez-vous pour continuer vers <strong>{app}</strong>.",
        "email": "Adresse e-mail",
        "password": "Mot de passe",
        "new_here": "Nouveau ici ?",
        "create_account_link": "Créer un compte",
        "wrong_credentials": "L'adresse e-mail ou le mot de passe est incorrect.",
        "too_many_sign_ins": (
            "Trop de connexions échouées. Attendez quelques minutes, puis réessayez."
        ),
        "busy_title": "Serveur occupé",
        "busy": "Le serveur est occupé. Réessayez dans un instant.",
        "bad_request_title": "Requête invalide",
        "bad_character": "La requête contient un caractère non autorisé.",
        "too_large_title": "Requête trop grande",
        "too_large": "La requête est trop grande.",
        "refused_title": "Refusé",
        "expired_title": "Formulaire expiré",
        "cannot_continue": "Impossible de continuer",
        "invalid_app_request": (
            "La requête de l'application n'est pas valide : {description} ({error})."
        ),
        "signed_out_title": "Déconnecté",
        "signed_out": "Vous êtes déconnecté.",
        "sign_up_title": "Créer un compte",
        "pod_name": "Nom du pod",
        "pod_name_help": "Votre pod et votre WebID porteront ce nom.",
        "password_help": "Au moins {n} caractères.",
        "password_again": "Mot de passe, à nouveau",
        "create_account": "Créer le compte",
        "have_account": "J'ai déjà un compte",
        "too_many_sign_ups": ("Trop de comptes créés depuis votre réseau. Réessayez plus tard."),
        "passwords_differ": "Les deux mots de passe diffèrent.",
        "pod_name_length": "Choisissez un nom de pod de 1 à {n} caractères.",
        "pod_name_unusable": (
            "Le nom de pod {name} n'est pas utilisable : utilisez de 1 à 63 lettres"
            " minuscules, chiffres ou « - », sans « - » au début ni à la fin, et pas un"
            " nom réservé."
        ),
        "pod_name_taken": "Un pod nommé {name} existe déjà : choisissez un autre nom.",
        "allow_title": "Autoriser {app} ?",
        "allow_heading": "Autoriser {app} à vous connecter ?",
        "asks_sign_in": "<strong>{app}</strong> demande à vous connecter avec votre WebID.",
        "app": "Application",
        "unverified": " (nom choisi par l'application elle-même)",
        "return_to": "Vous reviendrez vers",
        "app_id": "Identifiant de l'application",
        "app_can": "Si vous l'autorisez, l'application pourra",
        "remember": "Retenir ma décision pour cette application",
        "allow": "Autoriser",
        "deny": "Refuser",
        "your_webid": "Votre WebID :",
        "sign_in_as": "Se connecter en tant que",
        "scope_webid": (
            "utiliser votre WebID pour lire et modifier des données en votre nom, partout"
            " où vous avez accès"
        ),
        "scope_openid": "savoir qui vous êtes : votre WebID",
        "scope_offline_access": (
            "garder cet accès quand vous ne l'utilisez pas, jusqu'à ce que vous le retiriez"
            " ou qu'il expire"
        ),
        "full_only": (
            "<strong>Accès complet.</strong> Cette application ne dit pas ce dont elle a"
            " besoin : elle reçoit donc tout l'accès que vous avez. Sur chaque serveur Solid"
            " qui fait confiance à ce fournisseur, elle peut lire et modifier tout ce que"
            " votre WebID peut, comme vous le pourriez."
        ),
        "asks_in_pod": "Ce qu'elle demande dans votre pod",
        "choose_what": "Choisissez ce que {app} peut faire",
        "as_ticked": "Ce qu'elle demande, tel que coché ci-dessous",
        "full_access": "Accès complet",
        "full_choice": (
            "Tout ce que vous pouvez atteindre, sur chaque serveur, comme vous le pourriez"
            " (la liste de l'application ci-dessus ne s'applique pas)"
        ),
        "own_only": (
            "Seulement son propre dossier <code>{path}</code> (pour le lire et le modifier),"
            " rien d'autre"
        ),
        "nothing_beyond": "Rien dans votre pod au-delà de ce que tout le monde peut lire",
        "no_pod_here": (
            "Votre WebID n'a pas de pod sur ce serveur : les dossiers ci-dessus ne peuvent"
            " pas être donnés ici."
        ),
        "limits_note": (
            "Quel que soit votre choix, l'application peut aussi lire ce que tout le monde"
            " peut lire, comme votre profil public. Ces limites valent sur ce serveur ; les"
            " autres serveurs Solid ne les connaissent pas et donnent à l'application ce que"
            " votre WebID peut y faire."
        ),
        "mode_read": "lire",
        "mode_change": "modifier",
        "mode_delete": "supprimer",
        "mode_add": "ajouter à",
        "and": " et ",
        "kind_unplaced": (
            "des données du type <code>{tree}</code> (ce serveur ne peut pas les placer dans"
            " votre pod : elles ne seront pas données)"
        ),
        "the_folder": "le dossier <code>{path}</code>",
        "the_document": "le document <code>{path}</code>",
        "required": "obligatoire",
        "optional": "facultatif",
        "your_webids": "Vos WebID",
        "your_pods": "Vos pods",
        "pods_link": "Vos pods : demandes d'accès, activité, applications et données",
        "change_password": "Changer le mot de passe",
        "used_of": "{used} sur {limit}",
        "colon": " : ",
        "bad_email": "Saisissez une adresse e-mail comme nom@example.org.",
        "email_taken": "Un compte existe déjà avec cette adresse e-mail.",
        "sign_out_question": (
            "Se déconnecter de ce fournisseur d'identité ? Les applications auxquelles vous"
            " vous êtes connecté gardent l'accès qu'elles ont déjà, jusqu'à son expiration"
            " ou jusqu'à ce que vous le retiriez."
        ),
        "current_password": "Mot de passe actuel",
        "new_password": "Nouveau mot de passe",
        "new_password_again": "Nouveau mot de passe, à nouveau",
        "too_many_attempts": "Trop de tentatives échouées. Réessayez plus tard.",
        "current_wrong": "Le mot de passe actuel est incorrect.",
        "new_differ": "Les deux nouveaux mots de passe diffèrent.",
        "password_changed_title": "Mot de passe changé",
        "password_changed": (
            "Votre mot de passe a été changé, et toutes les autres connexions de ce compte"
            " ont pris fin."
        ),
        "password_too_short": "Choisissez un mot de passe d'au moins {n} caractères.",
        "password_too_long": "Choisissez un mot de passe d'au plus {n} caractères.",
        "not_found_title": "Introuvable",
        "no_signup": "La création de compte n'est pas ouverte sur ce serveur.",
        "no_webid_title": "Aucun WebID",
        "no_webid": "Votre compte n'a aucun WebID avec lequel se connecter.",
        "unknown_webid_title": "WebID inconnu",
        "unknown_webid": "Choisissez l'un de vos propres WebID.",
        "choose_access_title": "Choisissez l'accès",
        "choose_access": "Choisissez ce que l'application peut faire.",
        "needs_unreadable": (
            "{app} déclare dans son document Client ID des besoins d'accès que ce serveur ne"
            " sait pas lire : {problem}. Rien ne lui a été partagé ; l'éditeur de"
            " l'application doit corriger son document."
        ),
    },
}


def translator(lang: str) -> Translate:
    """``t(key, **values)``: the provider's words, else the shared header's."""
    return layered(MESSAGES, lang, layered(CHROME, lang, None))
