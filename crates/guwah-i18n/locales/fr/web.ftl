# Les pages web de guwah, en français.

## Le cadre de chaque page

app-name = guwah
skip-to-content = Aller au contenu
nav-items = Éléments
nav-upload = Déposer
nav-audit = Journal d’audit
nav-users = Comptes
nav-settings = Réglages
nav-verify = Vérifier un paquet
nav-sign-out = Se déconnecter
signed-in-as = Connecté·e : { $name } ({ $role })
language-label = Langue
language-switch = Changer
footer-note = Chaque original est conservé chiffré et scellé dans un journal signé.

role-admin = administrateur
role-coordinator = coordinateur
role-reviewer = relecteur
role-collector = collecteur
role-viewer = lecteur

## Connexion

login-title = Se connecter
login-name = Nom du compte
login-password = Mot de passe
login-code = Code du second facteur
login-code-help = Seulement si votre compte en a un : le code à 6 chiffres de votre application d’authentification, ou l’un de vos codes de secours.
login-submit = Se connecter
login-failed = Nom ou mot de passe incorrect, ou compte désactivé.
login-need-code = Ce compte demande son code de second facteur.
login-bad-code = Le code du second facteur est faux, déjà utilisé ou expiré.
login-throttled = Trop de tentatives. Réessayez dans { $seconds } secondes.
login-bad-name = Un nom de compte ne contient que des minuscules a-z, des chiffres et . _ -

## La liste des éléments

items-title = Éléments
filter-legend = Filtrer les éléments
filter-text = Mots
filter-tag = Étiquette
filter-media = Type de média
filter-media-any = Tous
filter-collector = Déposé par
filter-from = Scellé depuis le
filter-to = Scellé jusqu’au
filter-submit = Filtrer
filter-clear = Effacer les filtres
items-count = { $total ->
    [one] Un élément
   *[other] { $total } éléments
}
items-none = Aucun élément ne correspond.
col-name = Nom du fichier
col-type = Type
col-size = Taille
col-sealed = Scellé le
col-tags = Étiquettes
col-collector = Déposé par
no-filename = (sans nom de fichier)
page-prev = Page précédente
page-next = Page suivante
page-position = Page { $page } sur { $pages }

media-image = Image
media-video = Vidéo
media-audio = Audio
media-text = Texte
media-application = Document ou autre fichier

## Un élément

item-title = Élément { $id }
item-verified = Vérifié
item-verified-detail = Chaque champ correspond à son engagement scellé, et la notice de l’élément figure dans le journal signé.
item-not-verified = Non vérifié
item-not-verified-detail = Un champ conservé ici ne correspond pas à son engagement scellé.
item-checks = Ce qui a été vérifié
check-fields = Chaque métadonnée reproduit l’engagement scellé dans la notice.
check-inclusion = La notice est l’entrée { $leaf } du journal, prouvée par rapport au point de contrôle signé de { $size } entrées.
check-checkpoint = Le point de contrôle signé
item-facts = L’original
item-sha256 = SHA-256
item-size = Taille
item-type = Type de média
item-sealed = Scellé le
item-collector-key = Clé de signature du collecteur
item-fields = Métadonnées
field-name = Champ
field-value = Valeur
field-withheld = Masqué pour votre rôle
field-not-held = Non conservé
field-mismatch = Ne correspond pas à son engagement
item-custody = Chaîne de conservation
custody-when = Quand
custody-what = Quoi
custody-details = Détails
action-added = Scellé
action-exported = Remis
action-annotated = Annoté
action-derived = Copie dérivée créée
action-transferred = Transféré
action-disclosed = Divulgué
action-received = Reçu
action-other = Autre événement
item-preview = Aperçu
preview-show = Afficher un aperçu
preview-recorded = L’ouverture de l’aperçu est inscrite dans la chaîne de conservation.
preview-none = Pas d’aperçu pour ce type de média.
preview-no-role = Votre rôle ne donne pas accès aux originaux.
preview-failed = Impossible de faire un aperçu de cette image.
item-download = Télécharger l’original
item-text-preview = Le texte de l’original

## Notes

annotate-title = Ajouter une note
annotate-note = Note
annotate-help = La note est scellée dans le journal sous votre compte et ne pourra plus être modifiée.
annotate-submit = Sceller la note
annotate-done = Note scellée comme entrée { $leaf } du journal.
annotate-empty = Une note ne peut pas être vide.

## Dépôt depuis le terrain

upload-title = Déposer des preuves
upload-intro = Vos fichiers sont d’abord hachés sur cet appareil : le serveur peut ainsi prouver qu’il a reçu exactement ce que vous avez envoyé. Une connexion coupée reprend là où elle s’est arrêtée.
upload-files = Fichiers
upload-note = Note
upload-captured = Date de la prise
upload-source = Provenance
upload-submit = Envoyer
upload-hashing = Calcul de l’empreinte de { $name }…
upload-progress = Envoi de { $name } : { $percent } %
upload-resuming = Connexion perdue. Reprise de { $name }…
upload-done = Reçu et scellé : { $name }
upload-failed = Non envoyé : { $name }. { $reason }
upload-needs-script = L’envoi de fichiers demande JavaScript, pour hacher chaque fichier sur cet appareil et reprendre après une coupure.

## Administration

audit-title = Journal d’audit
audit-intro = Chaque connexion, modification de compte et accès à un original, tels que scellés dans le journal. Rien n’y expire.
audit-when = Quand
audit-action = Action
audit-item = Élément
audit-details = Détails
audit-none = Rien n’a encore été enregistré.
users-title = Comptes
users-name = Nom
users-role = Rôle
users-state = État
users-enabled = Actif
users-disabled = Désactivé

## Réglages

settings-title = Réglages
settings-language = Langue des pages pour votre compte
settings-save = Enregistrer
settings-saved = Enregistré.

## Erreurs

error-title = Cela n’a pas fonctionné
error-not-found = Il n’y a rien ici, ou ce n’est pas accessible à votre compte.
error-forbidden = Votre rôle ne le permet pas.
error-csrf = Ce formulaire n’est plus valable. Rechargez la page et renvoyez-le.
error-bad-request = La demande n’a pas été comprise : vérifiez ce que vous avez saisi.
error-too-large = C’est trop volumineux.
error-server = Le serveur n’a pas pu le faire. L’erreur a été consignée.
error-back = Retour aux éléments
