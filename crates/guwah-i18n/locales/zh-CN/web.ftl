# guwah 网页，简体中文。

## 每个页面的框架

app-name = guwah
skip-to-content = 跳到正文
nav-items = 条目
nav-upload = 提交
nav-audit = 审计记录
nav-users = 账户
nav-settings = 设置
nav-verify = 验证证据包
nav-sign-out = 退出登录
signed-in-as = 已登录：{ $name }（{ $role }）
language-label = 语言
language-switch = 切换
footer-note = 每份原件都以加密方式保存，并封存在已签名的日志中。

role-admin = 管理员
role-coordinator = 协调员
role-reviewer = 审阅员
role-collector = 收集员
role-viewer = 查看者

## 登录

login-title = 登录
login-name = 账户名
login-password = 密码
login-code = 第二重验证码
login-code-help = 仅当您的账户设置了第二重验证时填写：身份验证应用中的 6 位数字，或一个恢复码。
login-submit = 登录
login-failed = 账户名或密码错误，或账户已停用。
login-need-code = 此账户需要第二重验证码。
login-bad-code = 第二重验证码错误、已使用或已过期。
login-throttled = 尝试次数过多。请在 { $seconds } 秒后重试。
login-bad-name = 账户名只能包含小写字母 a-z、数字和 . _ -

## 条目列表

items-title = 条目
filter-legend = 筛选条目
filter-text = 关键词
filter-tag = 标签
filter-media = 媒体类型
filter-media-any = 全部
filter-collector = 提交者
filter-from = 封存起始日期
filter-to = 封存截止日期
filter-submit = 筛选
filter-clear = 清除筛选
items-count = { $total ->
   *[other] 共 { $total } 个条目
}
items-none = 没有符合条件的条目。
col-name = 文件名
col-type = 类型
col-size = 大小
col-sealed = 封存时间
col-tags = 标签
col-collector = 提交者
no-filename = （无文件名）
page-prev = 上一页
page-next = 下一页
page-position = 第 { $page } 页，共 { $pages } 页

media-image = 图片
media-video = 视频
media-audio = 音频
media-text = 文本
media-application = 文档或其他文件

## 单个条目

item-title = 条目 { $id }
item-verified = 已验证
item-verified-detail = 每个字段都与其封存的承诺值相符，且该条目的记录在已签名的日志中。
item-not-verified = 未通过验证
item-not-verified-detail = 此处保存的某个字段与其封存的承诺值不符。
item-checks = 检查了哪些内容
check-fields = 每个元数据值都能重现记录中封存的承诺值。
check-inclusion = 该记录是日志的第 { $leaf } 条，已对照包含 { $size } 条记录的签名检查点得到证明。
check-checkpoint = 签名检查点
item-facts = 原件
item-sha256 = SHA-256
item-size = 大小
item-type = 媒体类型
item-sealed = 封存时间
item-collector-key = 收集者的签名密钥
item-fields = 元数据
field-name = 字段
field-value = 值
field-withheld = 对您的角色不予显示
field-not-held = 未保存
field-mismatch = 与其承诺值不符
item-custody = 保管记录
custody-when = 时间
custody-what = 事件
custody-details = 详情
action-added = 已封存
action-exported = 已交出
action-annotated = 已加注
action-derived = 已制作衍生副本
action-transferred = 已转交
action-disclosed = 已披露
action-received = 已接收
action-other = 其他事件
item-preview = 预览
preview-show = 显示预览
preview-recorded = 打开预览会记入保管记录。
preview-none = 此媒体类型没有预览。
preview-no-role = 您的角色无权查看原件。
preview-failed = 无法为此图片生成预览。
item-download = 下载原件
item-text-preview = 原件的文本

## 备注

annotate-title = 添加备注
annotate-note = 备注
annotate-help = 备注会以您的账户名义封存在日志中，之后无法更改。
annotate-submit = 封存备注
annotate-done = 备注已封存为日志第 { $leaf } 条。
annotate-empty = 备注不能为空。

## 从现场提交

upload-title = 提交证据
upload-intro = 您的文件会先在本设备上计算哈希值，这样服务器能够证明它收到的正是您发送的内容。连接中断后会从中断处继续。
upload-files = 文件
upload-note = 备注
upload-captured = 拍摄时间
upload-source = 来源
upload-submit = 发送
upload-hashing = 正在计算 { $name } 的指纹…
upload-progress = 正在发送 { $name }：{ $percent }%
upload-resuming = 连接中断，正在继续发送 { $name }…
upload-done = 已接收并封存：{ $name }
upload-failed = 未能发送：{ $name }。{ $reason }
upload-needs-script = 发送文件需要启用 JavaScript，以便在本设备上计算每个文件的哈希值，并在中断后继续。

## 管理

audit-title = 审计记录
audit-intro = 每次登录、账户变更和对原件的访问，均按日志中封存的内容列出。这里的记录永不过期。
audit-when = 时间
audit-action = 操作
audit-item = 条目
audit-details = 详情
audit-none = 尚无任何记录。
users-title = 账户
users-name = 名称
users-role = 角色
users-state = 状态
users-enabled = 正常
users-disabled = 已停用

## 设置

settings-title = 设置
settings-language = 您账户的页面语言
settings-save = 保存
settings-saved = 已保存。

## 错误

error-title = 操作未成功
error-not-found = 这里没有内容，或您的账户无权查看。
error-forbidden = 您的角色不允许此操作。
error-csrf = 此表单已过期。请刷新页面后重新提交。
error-bad-request = 无法理解该请求：请检查您输入的内容。
error-too-large = 内容过大。
error-server = 服务器无法完成此操作。错误已记入日志。
error-back = 返回条目列表
