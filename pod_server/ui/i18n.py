"""The pages' words in English and French, and which language a request gets.

A small catalogue (no gettext machinery): every string a page shows has a key here in
both languages, which a unit test checks. The language is the one the person chose (the
``lang`` query or cookie the switch sets), else the best of ``Accept-Language``, else
English.
"""

from __future__ import annotations

from pod_server.http.language import (
    CHROME,
    COOKIE,
    DEFAULT,
    LANGUAGES,
    Translate,
    choose_language,
    human_size,
    layered,
    parse_accept_language,
    request_language,
)
from pod_server.ui.sharing_words import WORDS

__all__ = [
    "CHROME",
    "COOKIE",
    "DEFAULT",
    "LANGUAGES",
    "MESSAGES",
    "Translate",
    "choose_language",
    "human_size",
    "layered",
    "parse_accept_language",
    "request_language",
    "translator",
]

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "not_signed_in": "Not signed in",
        "owner_nav": "Your pod",
        "breadcrumbs": "You are here",
        "container": "Folder {name}",
        "document": "Document {name}",
        "file": "File {name}",
        "name": "Name",
        "type": "Type",
        "size": "Size",
        "modified": "Modified",
        "folder": "Folder",
        "empty": "This folder is empty.",
        "sort_by": "Sort by {column}",
        "sorted_asc": "sorted ascending",
        "sorted_desc": "sorted descending",
        "next_page": "Next page",
        "first_page": "First page",
        "paged_note": "This folder is large: it is shown in pages, in name order.",
        "members": "{count} items",
        "raw_turtle": "Turtle",
        "raw_jsonld": "JSON-LD",
        "raw_data": "The data as",
        "download": "Download",
        "open_raw": "Open the file itself",
        "upload": "Upload files",
        "files": "Files",
        "upload_button": "Upload",
        "new_folder": "New folder",
        "folder_name": "Folder name",
        "create": "Create",
        "delete": "Delete",
        "delete_this": "Delete this {kind}",
        "confirm_delete": "Delete {name}?",
        "confirm_delete_text": "This deletes {url} for good. It cannot be undone.",
        "confirm_delete_folder": "A folder can be deleted only once it is empty.",
        "cancel": "Cancel",
        "deleted": "{name} was deleted.",
        "uploaded": "{count} file(s) uploaded.",
        "created": "Folder {name} created.",
        "storage": "Storage",
        "storage_used": "{used} used of {limit}",
        "storage_used_nolimit": "{used} used",
        "statements": "Statements",
        "this_document": "this document",
        "subject": "Subject",
        "predicate": "Property",
        "object": "Value",
        "no_statements": "This document holds no statements.",
        "preview": "Preview",
        "no_preview": "No preview for this type of file.",
        "preview_truncated": "Only the beginning of the file is shown.",
        "refused_title": "Access refused",
        "admin_nav": "Operator",
        "stop_separate": "Stop sharing separately",
        "stop_separate_note": (
            "Its own settings go: it is shared as its folder is, as shown there."
        ),
        "follows_folder": "It now follows its folder's sharing.",
        "follow_nothing": (
            "No folder above it has sharing settings: without its own, nobody could use it."
        ),
        "follow_root": "The pod's top folder has no folder to follow.",
        "follow_lock_out": (
            "Not changed: its folder's settings would take away your access ({modes}) to"
            " {url}. Give that access in the folder first, or keep its own settings."
        ),
        "follow_already": "It already follows its folder's sharing.",
        "rename": "Rename",
        "rename_this": "Rename this {kind}",
        "not_renamed": "Not renamed",
        "new_name": "New name",
        "rename_exists": "Something named {name} is already in this folder: choose another name.",
        "rename_own_acl": (
            "It has its own sharing settings: stop sharing it separately first, then rename it."
        ),
        "renamed": "Renamed to {name}.",
        "renamed_kept": (
            "Renamed to {name}, except {count} item(s) changed while it was being copied:"
            " they are still in the old folder."
        ),
        "rename_root": "The pod's top folder cannot be renamed.",
        "rename_one_segment": ('Choose a name without a slash (/), not empty and not "." or "..".'),
        "rename_reserved": "A name ending in .acl or .meta is kept for the server.",
        "rename_same": "That is already its name.",
        "rename_folder_acl": (
            "{name} has its own sharing settings, which would not follow it: stop sharing it"
            " separately first, then rename the folder."
        ),
        "rename_too_many": (
            "This folder holds more than {count} items: too many to rename here. Use an app"
            " or the pod command line to move it."
        ),
        "back_to_folder": "Back to the folder",
        "not_empty_title": "This folder is not empty",
        "not_empty_text": (
            "It holds {count} item(s). Empty it first: delete or move what it holds, then"
            " delete the folder."
        ),
        "suspended_title": "This pod is suspended",
        "suspended_text": (
            "The operator of this server has suspended this pod: nobody, its owner"
            " included, can use it until they resume it. Ask the operator why."
        ),
        "unauthorized_text": "This page is not public. Sign in to see it if you have access.",
        "forbidden_text": "You ({webid}) do not have access to this page.",
        "sign_in_other": "Sign in as someone else",
        "not_found_title": "Not found",
        "not_found_text": "There is nothing at this address.",
        "error_title": "Something went wrong",
        "bad_name": "Choose a name without slashes.",
        "no_files": "Choose at least one file.",
        "progress": "Upload progress",
    },
    "fr": {
        "not_signed_in": "Non connecté",
        "owner_nav": "Votre pod",
        "breadcrumbs": "Vous êtes ici",
        "container": "Dossier {name}",
        "document": "Document {name}",
        "file": "Fichier {name}",
        "name": "Nom",
        "type": "Type",
        "size": "Taille",
        "modified": "Modifié",
        "folder": "Dossier",
        "empty": "Ce dossier est vide.",
        "sort_by": "Trier par {column}",
        "sorted_asc": "tri croissant",
        "sorted_desc": "tri décroissant",
        "next_page": "Page suivante",
        "first_page": "Première page",
        "paged_note": "Ce dossier est grand : il est affiché par pages, dans l'ordre des noms.",
        "members": "{count} éléments",
        "raw_turtle": "Turtle",
        "raw_jsonld": "JSON-LD",
        "raw_data": "Les données en",
        "download": "Télécharger",
        "open_raw": "Ouvrir le fichier lui-même",
        "upload": "Déposer des fichiers",
        "files": "Fichiers",
        "upload_button": "Déposer",
        "new_folder": "Nouveau dossier",
        "folder_name": "Nom du dossier",
        "create": "Créer",
        "delete": "Supprimer",
        "delete_this": "Supprimer ce {kind}",
        "confirm_delete": "Supprimer {name} ?",
        "confirm_delete_text": "Ceci supprime {url} définitivement. C'est irréversible.",
        "confirm_delete_folder": "Un dossier ne peut être supprimé que s'il est vide.",
        "cancel": "Annuler",
        "deleted": "{name} a été supprimé.",
        "uploaded": "{count} fichier(s) déposé(s).",
        "created": "Dossier {name} créé.",
        "storage": "Stockage",
        "storage_used": "{used} utilisés sur {limit}",
        "storage_used_nolimit": "{used} utilisés",
        "statements": "Déclarations",
        "this_document": "ce document",
        "subject": "Sujet",
        "predicate": "Propriété",
        "object": "Valeur",
        "no_statements": "Ce document ne contient aucune déclaration.",
        "preview": "Aperçu",
        "no_preview": "Pas d'aperçu pour ce type de fichier.",
        "preview_truncated": "Seul le début du fichier est affiché.",
        "refused_title": "Accès refusé",
        "admin_nav": "Exploitation",
        "stop_separate": "Ne plus partager à part",
        "stop_separate_note": (
            "Ses propres réglages disparaissent : il est partagé comme son dossier, indiqué là-bas."
        ),
        "follows_folder": "Il suit maintenant le partage de son dossier.",
        "follow_nothing": (
            "Aucun dossier au-dessus n'a de réglages de partage : sans les siens, personne"
            " ne pourrait l'utiliser."
        ),
        "follow_root": "Le dossier principal du pod n'a pas de dossier à suivre.",
        "follow_lock_out": (
            "Rien n'a changé : les réglages de son dossier vous retireraient votre accès"
            " ({modes}) à {url}. Donnez d'abord cet accès dans le dossier, ou gardez ses"
            " propres réglages."
        ),
        "follow_already": "Il suit déjà le partage de son dossier.",
        "rename": "Renommer",
        "rename_this": "Renommer ce {kind}",
        "not_renamed": "Pas renommé",
        "new_name": "Nouveau nom",
        "rename_exists": "Ce dossier contient déjà {name} : choisissez un autre nom.",
        "rename_own_acl": (
            "Il a ses propres réglages de partage : arrêtez de le partager à part, puis"
            " renommez-le."
        ),
        "renamed": "Renommé en {name}.",
        "renamed_kept": (
            "Renommé en {name}, sauf {count} élément(s) modifié(s) pendant la copie : ils"
            " sont restés dans l'ancien dossier."
        ),
        "rename_root": "Le dossier principal du pod ne peut pas être renommé.",
        "rename_one_segment": (
            "Choisissez un nom sans barre oblique (/), non vide, autre que « . » ou « .. »."
        ),
        "rename_reserved": "Un nom finissant par .acl ou .meta est réservé au serveur.",
        "rename_same": "C'est déjà son nom.",
        "rename_folder_acl": (
            "{name} a ses propres réglages de partage, qui ne le suivraient pas : arrêtez"
            " d'abord de le partager à part, puis renommez le dossier."
        ),
        "rename_too_many": (
            "Ce dossier contient plus de {count} éléments : trop pour le renommer ici."
            " Utilisez une application ou la ligne de commande pod pour le déplacer."
        ),
        "back_to_folder": "Retour au dossier",
        "not_empty_title": "Ce dossier n'est pas vide",
        "not_empty_text": (
            "Il contient {count} élément(s). Videz-le d'abord : supprimez ou déplacez ce"
            " qu'il contient, puis supprimez le dossier."
        ),
        "suspended_title": "Ce pod est suspendu",
        "suspended_text": (
            "L'exploitant de ce serveur a suspendu ce pod : personne, pas même son"
            " propriétaire, ne peut l'utiliser avant qu'il le rétablisse. Demandez-lui pourquoi."
        ),
        "unauthorized_text": (
            "Cette page n'est pas publique. Connectez-vous pour la voir si vous y avez accès."
        ),
        "forbidden_text": "Vous ({webid}) n'avez pas accès à cette page.",
        "sign_in_other": "Se connecter avec un autre compte",
        "not_found_title": "Introuvable",
        "not_found_text": "Il n'y a rien à cette adresse.",
        "error_title": "Une erreur est survenue",
        "bad_name": "Choisissez un nom sans barre oblique.",
        "no_files": "Choisissez au moins un fichier.",
        "progress": "Progression du dépôt",
    },
}

for _lang, _words in WORDS.items():  # the sharing page's and profile card's words
    MESSAGES[_lang].update(_words)


def translator(lang: str) -> Translate:
    """``t(key, **values)`` in ``lang``; an unknown key is a programming error (KeyError)."""
    return layered(MESSAGES, lang, layered(CHROME, lang, None))
