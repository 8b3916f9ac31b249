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
        "signed_in_email": "Signed in as <strong>{email}</strong>.",
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
        "signed_in_email": "Connecté en tant que <strong>{email}</strong>.",
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
