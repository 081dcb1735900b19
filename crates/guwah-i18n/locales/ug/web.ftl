# guwah تور بەتلىرى، ئۇيغۇرچە (ئەرەب يېزىقى، ئوڭدىن سولغا).

## ھەربىر بەتنىڭ رامكىسى

app-name = guwah
skip-to-content = مەزمۇنغا ئاتلاش
nav-items = ماتېرىياللار
nav-upload = تاپشۇرۇش
nav-audit = تەپتىش خاتىرىسى
nav-users = ھېساباتلار
nav-settings = تەڭشەكلەر
nav-verify = بوغچىنى دەلىللەش
nav-sign-out = چېكىنىش
signed-in-as = كىرگەن ھېسابات: { $name } ({ $role })
language-label = تىل
language-switch = ئالماشتۇرۇش
footer-note = ھەربىر ئەسلى ھۆججەت شىفىرلانغان ھالەتتە ساقلىنىدۇ ۋە ئىمزالانغان جۇرنالدا پېچەتلىنىدۇ.

role-admin = باشقۇرغۇچى
role-coordinator = ماسلاشتۇرغۇچى
role-reviewer = تەكشۈرگۈچى
role-collector = توپلىغۇچى
role-viewer = كۆرگۈچى

## كىرىش

login-title = كىرىش
login-name = ھېسابات نامى
login-password = پارول
login-code = ئىككىنچى باسقۇچلۇق دەلىللەش كودى
login-code-help = پەقەت ھېساباتىڭىزدا بولسىلا: دەلىللەش ئەپىدىكى 6 خانىلىق كود ياكى ئەسلىگە كەلتۈرۈش كودلىرىڭىزنىڭ بىرى.
login-submit = كىرىش
login-failed = نام ياكى پارول خاتا، ياكى ھېسابات چەكلەنگەن.
login-need-code = بۇ ھېساباتقا ئىككىنچى باسقۇچلۇق دەلىللەش كودى كېرەك.
login-bad-code = ئىككىنچى باسقۇچلۇق دەلىللەش كودى خاتا، ئىشلىتىلگەن ياكى ۋاقتى ئۆتكەن.
login-throttled = سىناش قېتىم سانى بەك كۆپ. { $seconds } سېكۇنتتىن كېيىن قايتا سىناڭ.
login-bad-name = ھېسابات نامىدا پەقەت كىچىك ھەرپ a-z، رەقەم ۋە . _ - بولىدۇ.

## ماتېرىياللار تىزىملىكى

items-title = ماتېرىياللار
filter-legend = ماتېرىياللارنى سۈزۈش
filter-text = سۆزلەر
filter-tag = خەتكۈچ
filter-media = ۋاسىتە تىپى
filter-media-any = ھەممىسى
filter-collector = يوللىغۇچى
filter-from = پېچەتلەنگەن ۋاقىت (دىن باشلاپ)
filter-to = پېچەتلەنگەن ۋاقىت (غىچە)
filter-submit = سۈزۈش
filter-clear = سۈزگۈچلەرنى تازىلاش
items-count = { $total ->
   *[other] { $total } ماتېرىيال
}
items-none = ماس كېلىدىغان ماتېرىيال يوق.
col-name = ھۆججەت نامى
col-type = تىپى
col-size = چوڭلۇقى
col-sealed = پېچەتلەنگەن ۋاقىت
col-tags = خەتكۈچلەر
col-collector = يوللىغۇچى
no-filename = (ھۆججەت نامى يوق)
page-prev = ئالدىنقى بەت
page-next = كېيىنكى بەت
page-position = { $pages } بەتنىڭ { $page }-بېتى

media-image = رەسىم
media-video = سىن
media-audio = ئاۋاز
media-text = تېكىست
media-application = ھۆججەت ياكى باشقا

## بىر ماتېرىيال

item-title = ماتېرىيال { $id }
item-verified = دەلىللەندى
item-verified-detail = ھەربىر بۆلەك پېچەتلەنگەن ھەش قىممىتىگە ماس كېلىدۇ، ماتېرىيالنىڭ خاتىرىسى ئىمزالانغان جۇرنالدا بار.
item-not-verified = دەلىللەنمىدى
item-not-verified-detail = بۇ يەردە ساقلانغان بىر بۆلەك پېچەتلەنگەن ھەش قىممىتىگە ماس كەلمەيدۇ.
item-checks = نېمىلەر تەكشۈرۈلدى
check-fields = ھەربىر مېتا سانلىق مەلۇمات قىممىتى خاتىرىدە پېچەتلەنگەن ھەش قىممىتىنى قايتا ھاسىل قىلىدۇ.
check-inclusion = بۇ خاتىرە جۇرنالنىڭ { $leaf }-تۈرى، { $size } تۈرلۈك ئىمزالانغان تەكشۈرۈش نۇقتىسىغا قارىتا ئىسپاتلاندى.
check-checkpoint = ئىمزالانغان تەكشۈرۈش نۇقتىسى
item-facts = ئەسلى ھۆججەت
item-sha256 = SHA-256
item-size = چوڭلۇقى
item-type = ۋاسىتە تىپى
item-sealed = پېچەتلەنگەن ۋاقىت
item-collector-key = توپلىغۇچىنىڭ ئىمزا ئاچقۇچى
item-fields = مېتا سانلىق مەلۇمات
field-name = بۆلەك
field-value = قىممىتى
field-withheld = رولىڭىزغا كۆرسىتىلمەيدۇ
field-not-held = ساقلانمىغان
field-mismatch = ھەش قىممىتىگە ماس كەلمەيدۇ
item-custody = ساقلاش تارىخى
custody-when = ۋاقىت
custody-what = ئىش
custody-details = تەپسىلاتى
action-added = پېچەتلەندى
action-exported = تاپشۇرۇلدى
action-annotated = ئىزاھات قوشۇلدى
action-derived = ھاسىلە نۇسخا ياسالدى
action-transferred = يۆتكەلدى
action-disclosed = ئاشكارىلاندى
action-received = تاپشۇرۇۋېلىندى
action-other = باشقا ھادىسە
item-preview = ئالدىن كۆرۈش
preview-show = ئالدىن كۆرۈشنى ئېچىش
preview-recorded = ئالدىن كۆرۈشنى ئېچىش ساقلاش تارىخىغا خاتىرىلىنىدۇ.
preview-none = بۇ ۋاسىتە تىپىنىڭ ئالدىن كۆرۈشى يوق.
preview-no-role = رولىڭىز ئەسلى ھۆججەتلەرنى كۆرەلمەيدۇ.
preview-failed = بۇ رەسىمدىن ئالدىن كۆرۈش ياسىغىلى بولمىدى.
item-download = ئەسلى ھۆججەتنى چۈشۈرۈش
item-text-preview = ئەسلى ھۆججەتنىڭ تېكىستى

## ئىزاھاتلار

annotate-title = ئىزاھات قوشۇش
annotate-note = ئىزاھات
annotate-help = ئىزاھات ھېساباتىڭىز نامىدا جۇرنالغا پېچەتلىنىدۇ، كېيىن ئۆزگەرتكىلى بولمايدۇ.
annotate-submit = ئىزاھاتنى پېچەتلەش
annotate-done = ئىزاھات جۇرنالنىڭ { $leaf }-تۈرى بولۇپ پېچەتلەندى.
annotate-empty = ئىزاھات بوش بولسا بولمايدۇ.

## نەق مەيداندىن تاپشۇرۇش

upload-title = ئىسپات تاپشۇرۇش
upload-intro = ھۆججەتلىرىڭىزنىڭ ھەش قىممىتى ئالدى بىلەن بۇ ئۈسكۈنىدە ھېسابلىنىدۇ، شۇڭا مۇلازىمېتىر سىز ئەۋەتكەن نەرسىنى دەل تاپشۇرۇۋالغانلىقىنى ئىسپاتلىيالايدۇ. ئۈزۈلۈپ قالغان ئۇلىنىش توختىغان يېرىدىن داۋاملىشىدۇ.
upload-files = ھۆججەتلەر
upload-note = ئىزاھات
upload-captured = تارتىلغان ۋاقتى
upload-source = مەنبەسى
upload-submit = ئەۋەتىش
upload-hashing = { $name } نىڭ بارماق ئىزى ھېسابلىنىۋاتىدۇ…
upload-progress = { $name } ئەۋەتىلىۋاتىدۇ: { $percent }%
upload-resuming = ئۇلىنىش ئۈزۈلدى. { $name } داۋاملىق ئەۋەتىلىۋاتىدۇ…
upload-done = تاپشۇرۇۋېلىندى ۋە پېچەتلەندى: { $name }
upload-failed = ئەۋەتىلمىدى: { $name }. { $reason }
upload-needs-script = ھۆججەت ئەۋەتىش ئۈچۈن JavaScript كېرەك، شۇندىلا ھەربىر ھۆججەتنىڭ ھەش قىممىتى بۇ ئۈسكۈنىدە ھېسابلىنىپ، ئۈزۈلۈپ قالسا داۋاملاشتۇرغىلى بولىدۇ.

## باشقۇرۇش

audit-title = تەپتىش خاتىرىسى
audit-intro = ھەربىر كىرىش، ھېسابات ئۆزگىرىشى ۋە ئەسلى ھۆججەتنى زىيارەت قىلىش، جۇرنالدا پېچەتلەنگىنى بويىچە. بۇ يەردىكى ھېچنېمىنىڭ ۋاقتى ئۆتمەيدۇ.
audit-when = ۋاقىت
audit-action = ھەرىكەت
audit-item = ماتېرىيال
audit-details = تەپسىلاتى
audit-none = تېخى ھېچنېمە خاتىرىلەنمىدى.
users-title = ھېساباتلار
users-name = نامى
users-role = رولى
users-state = ھالىتى
users-enabled = ئاكتىپ
users-disabled = چەكلەنگەن

## تەڭشەكلەر

settings-title = تەڭشەكلەر
settings-language = ھېساباتىڭىزنىڭ بەت تىلى
settings-save = ساقلاش
settings-saved = ساقلاندى.

## خاتالىقلار

error-title = بۇ ئىش ئەمەلگە ئاشمىدى
error-not-found = بۇ يەردە ھېچنېمە يوق، ياكى ھېساباتىڭىزغا ئوچۇق ئەمەس.
error-forbidden = رولىڭىز بۇنىڭغا يول قويمايدۇ.
error-csrf = بۇ جەدۋەلنىڭ ۋاقتى ئۆتتى. بەتنى قايتا يۈكلەپ، قايتا ئەۋەتىڭ.
error-bad-request = تەلەپ چۈشىنىلمىدى: كىرگۈزگەنلىرىڭىزنى تەكشۈرۈڭ.
error-too-large = بەك چوڭ.
error-server = مۇلازىمېتىر بۇنى قىلالمىدى. خاتالىق خاتىرىلەندى.
error-back = ماتېرىياللارغا قايتىش
