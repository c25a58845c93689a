"""The search recall set (issue 21): 60 SOPs, 200 requests, English and Russian.

The 40 SOPs of `tests.support.sops` plus 12 near-miss distractors (a sibling of an existing SOP that
shares most of its words: unstar vs star, restore vs back up) and 8 SOPs written in Russian. Each
request names the SOP it should find and its kind:

- `paraphrase`: the request in other words, same language (the 80 of `sops.py`, plus new ones);
- `no-overlap`: an English request sharing no content word with the SOP's text;
- `ru->en`: a Russian request for an English SOP;
- `en->ru`: an English request for a Russian SOP.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.support.sops import SOPS, Sop


@dataclass(frozen=True)
class Request:
    text: str
    title: str  # the SOP it should find
    kind: str


KINDS = ("paraphrase", "no-overlap", "ru->en", "en->ru")


def _sop(page: str, title: str, use_when: str, steps: tuple[tuple[str, str], ...], queries: tuple[str, str],
         preferences: str = "") -> Sop:
    return Sop(page, title, use_when, steps, queries, preferences)


DISTRACTORS: tuple[Sop, ...] = (
    _sop("/github/GTM", "Unstar a repository", "the user wants to remove their star from a GitHub repository",
         (("github_search_repos", "find the repo by owner and name"), ("github_unstar_repo", "remove the star")),
         ("take back my star on that github project", "I no longer want to star the acontext repo")),
    _sop("/github/basic_ops", "Close a pull request without merging", "abandon a pull request that will not land",
         (("github_get_pr", "read the discussion"), ("github_close_pr", "close it with a comment explaining why")),
         ("drop this PR, we won't merge it", "reject the pull request and shut it")),
    _sop("/slack/admin", "Delete a channel", "permanently remove a Slack channel and its history",
         (("slack_export_channel", "export the history first"), ("slack_delete_channel", "delete it")),
         ("erase the slack room and everything in it", "get rid of that channel for good")),
    _sop("/calendar", "Cancel a meeting", "call off a scheduled meeting",
         (("calendar_get_event", "find the event"), ("calendar_delete_event", "delete it and notify guests")),
         ("call off tomorrow's sync", "the 3pm meeting is not happening anymore, remove it")),
    _sop("/email/inbox", "Forward an email", "pass an email on to someone else",
         (("gmail_get_thread", "read the thread"), ("gmail_forward", "forward it with a short note")),
         ("send this mail on to my manager", "pass the vendor's message along to finance")),
    _sop("/data/sql", "Restore a database from a backup", "bring a database back from a backup file",
         (("s3_download", "fetch the latest dump from the backups bucket"), ("pg_restore", "restore it")),
         ("recover prod data from last night's dump", "load the saved snapshot back into postgres")),
    _sop("/data/sql", "Drop an unused index", "remove a database index nobody uses",
         (("sql_index_usage", "find indexes with zero scans"), ("sql_execute", "drop index concurrently")),
         ("clean up indexes that are never used", "remove the dead index on the orders table")),
    _sop("/deploy", "Deploy to staging", "release a branch to the staging environment for testing",
         (("ci_get_status", "confirm the branch is green"), ("deploy_run", "deploy with the staging profile")),
         ("put my branch on the test environment", "ship this build to pre-production for QA")),
    _sop("/payments", "Void an invoice", "cancel an invoice sent by mistake",
         (("stripe_find_invoice", "find the invoice"), ("stripe_void_invoice", "void it and tell the customer")),
         ("that bill went out wrong, cancel it", "undo the invoice we sent acme by mistake")),
    _sop("/support", "Close a support ticket", "resolve and close a support request once answered",
         (("helpdesk_get_ticket", "check the customer confirmed"), ("helpdesk_close", "close with a summary")),
         ("mark the customer's request as solved", "wrap up the helpdesk case now it is fixed")),
    _sop("/files/local", "Extract an archive", "unpack a zip or tar archive",
         (("shell_run", "unzip archive.zip -d folder"),),
         ("unpack the zip the client sent", "open up this tarball into a directory")),
    _sop("/files/drive", "Revoke access to a document", "remove someone's access to a file in Google Drive",
         (("drive_search", "find the file"), ("drive_unshare", "remove their permission")),
         ("carol should not see the budget sheet anymore", "stop the client from opening the proposal doc")),
)

RUSSIAN: tuple[Sop, ...] = (
    _sop("/hr", "Оформить отпуск сотрудника", "сотрудник просит отпуск на определённые даты",
         (("hr_create_leave", "создать заявку на отпуск с датами"),
          ("calendar_create_event", "отметить отсутствие в общем календаре")),
         ("хочу уйти в отпуск с 1 по 14 июля", "")),
    _sop("/hr", "Провести онбординг нового сотрудника", "в команду выходит новый человек",
         (("hr_create_account", "завести учётные записи"), ("slack_invite", "пригласить в рабочие каналы"),
          ("calendar_create_event", "назначить встречу с наставником")),
         ("завтра к нам выходит новый разработчик, подготовь всё", "")),
    _sop("/finance", "Сверить счета за месяц", "закрытие месяца: сверка банковской выписки с учётом",
         (("bank_get_statement", "скачать выписку за месяц"), ("ledger_reconcile", "сопоставить проводки")),
         ("проверь, что выписка из банка сходится с бухгалтерией", "")),
    _sop("/finance", "Оплатить счёт поставщика", "пришёл счёт от поставщика, его нужно оплатить",
         (("erp_find_bill", "найти счёт и проверить сумму"), ("bank_create_payment", "создать платёжку")),
         ("перечисли деньги подрядчику по его счёту", "")),
    _sop("/travel", "Забронировать командировку", "нужна поездка по работе: билеты и гостиница",
         (("flights_search", "найти рейс"), ("hotels_book", "забронировать отель рядом с офисом")),
         ("организуй мне поездку в Казань на конференцию", "")),
    _sop("/web", "Продлить домен сайта", "срок регистрации домена скоро истекает",
         (("registrar_get_domain", "проверить дату окончания"), ("registrar_renew", "продлить на год")),
         ("у нашего адреса сайта заканчивается регистрация", "")),
    _sop("/telegram", "Отправить рассылку в Telegram-канал", "опубликовать объявление для подписчиков в Telegram",
         (("telegram_get_channel", "найти канал"), ("telegram_send_message", "опубликовать пост с картинкой")),
         ("напиши подписчикам в телеграме о новой версии", "")),
    _sop("/data/analytics", "Выгрузить отчёт о продажах в Excel", "руководитель просит таблицу продаж за период",
         (("sql_query", "выбрать продажи за период"), ("xlsx_write", "сохранить в Excel с итогами")),
         ("сделай табличку с продажами за квартал для директора", "")),
)

CORPUS: tuple[Sop, ...] = SOPS + DISTRACTORS + RUSSIAN

_RU_FOR_EN: dict[str, str] = {
    "Star a repository": "поставь звёздочку этому проекту на гитхабе",
    "Share a repo on social media": "расскажи в соцсетях о нашем новом релизе",
    "Write a launch blog post": "напиши статью в блог о запуске продукта",
    "Create a pull request": "отправь мои изменения на ревью через пул-реквест",
    "Open an issue": "заведи задачу об ошибке в репозитории",
    "Merge a pull request": "влей одобренный пул-реквест в основную ветку",
    "Clone a repository": "скачай исходники репозитория к себе на машину",
    "Tag a release": "выпусти новую версию 2.0 с описанием изменений",
    "Review a pull request": "посмотри код коллеги и оставь замечания",
    "Request reviewers": "попроси владельцев кода проверить мои изменения",
    "Post a message to a channel": "напиши обновление в общий канал слака",
    "Send a direct message": "напиши Алисе лично в слаке",
    "Schedule a reminder": "напомни мне завтра в девять про планёрку",
    "Create a channel": "создай новый канал в слаке для проекта",
    "Archive a channel": "закрой старый неактивный канал",
    "Reply to an email": "ответь на письмо от поставщика",
    "Summarise unread email": "что я пропустил в почте, кратко",
    "Unsubscribe from a newsletter": "отпишись от этой рекламной рассылки",
    "Send a cold outreach email": "напиши первое письмо потенциальному клиенту",
    "Schedule a meeting": "назначь встречу с Бобом на следующей неделе",
    "Reschedule a meeting": "перенеси мой созвон на пятницу",
    "Block focus time": "зарезервируй утро для спокойной работы без встреч",
    "Share a document": "дай Кэрол доступ к таблице с бюджетом",
    "Convert a document to PDF": "сохрани этот документ в пдф",
    "Compress a folder": "заархивируй папку с логами",
    "Find large files": "диск переполнен, найди самые большие файлы",
    "Export query results to CSV": "сохрани результат запроса в файл csv",
    "Back up a database": "сделай резервную копию базы перед миграцией",
    "Add a database index": "запрос к таблице заказов тормозит, ускорь его",
    "Build a weekly dashboard": "сделай еженедельный дашборд с метриками",
    "Deploy to production": "выкати последнюю версию в прод",
    "Roll back a deployment": "релиз сломал оплату, откати его",
    "Rotate an API key": "ключ API утёк, замени его",
    "Scale a service": "добавь реплик сервису, не справляется с нагрузкой",
    "Update the README": "поправь инструкцию по установке в ридми",
    "Translate documentation": "переведи документацию на испанский",
    "Issue a refund": "верни клиенту деньги за заказ",
    "Send an invoice": "выставь клиенту счёт за работу в марте",
    "Triage a support ticket": "разбери новое обращение в поддержку и назначь команду",
    "Write a help center article": "добавь в базу знаний статью о сбросе пароля",
}

_NO_OVERLAP: dict[str, str] = {
    "Star a repository": "bookmark that open source project I like so it gets a thumbs up",
    "Create a pull request": "propose merging my work so others can look",
    "Clone a repository": "grab a copy of the codebase onto this laptop",
    "Post a message to a channel": "let everyone in #general know the news",
    "Send a direct message": "quietly ping bob one-on-one",
    "Schedule a reminder": "nudge me before the standup starts",
    "Reply to an email": "get back to that vendor who wrote to me",
    "Summarise unread email": "catch me up on what landed overnight",
    "Schedule a meeting": "find half an hour when alice and I are both free",
    "Block focus time": "nobody should be able to book me before noon",
    "Compress a folder": "shrink these logs into a single .zip",
    "Find large files": "what is eating all my storage",
    "Back up a database": "dump postgres before we migrate",
    "Deploy to production": "ship it live",
    "Roll back a deployment": "yesterday's build was fine, go back to it",
    "Rotate an API key": "our token got leaked publicly",
    "Scale a service": "more pods please, traffic is spiking",
    "Issue a refund": "the client wants their money back",
    "Send an invoice": "bill acme for the hours",
    "Triage a support ticket": "who on staff should handle this complaint",
}

_EN_FOR_RU: dict[str, tuple[str, str]] = {
    "Оформить отпуск сотрудника": ("book two weeks of vacation for me in july", "file a leave request for an employee"),
    "Провести онбординг нового сотрудника": ("a new hire starts tomorrow, set everything up",
                                             "onboard the developer joining our team"),
    "Сверить счета за месяц": ("reconcile the bank statement with the ledger for the month",
                               "month-end close: check the books match the bank"),
    "Оплатить счёт поставщика": ("pay the supplier's bill", "wire money to the contractor for their invoice"),
    "Забронировать командировку": ("book flights and a hotel for my business trip",
                                   "arrange travel to the conference in Kazan"),
    "Продлить домен сайта": ("our website domain is about to expire, renew it", "extend the domain registration"),
    "Отправить рассылку в Telegram-канал": ("post an announcement to our telegram channel",
                                            "tell telegram subscribers about the new version"),
    "Выгрузить отчёт о продажах в Excel": ("export quarterly sales to an excel spreadsheet for the director",
                                           "make an xlsx sales report for the period"),
}


def _requests() -> tuple[Request, ...]:
    out: list[Request] = []
    for sop in SOPS + DISTRACTORS:
        out += [Request(q, sop.title, "paraphrase") for q in sop.queries]
    for sop in RUSSIAN:
        out.append(Request(sop.queries[0], sop.title, "paraphrase"))
    out += [Request(q, title, "no-overlap") for title, q in _NO_OVERLAP.items()]
    out += [Request(q, title, "ru->en") for title, q in _RU_FOR_EN.items()]
    out += [Request(q, title, "ru->en") for title, q in _RU_FOR_DISTRACTOR.items()]
    out += [Request(q, title, "en->ru") for title, pair in _EN_FOR_RU.items() for q in pair]
    return tuple(out)


_RU_FOR_DISTRACTOR: dict[str, str] = {
    "Unstar a repository": "убери мою звёздочку с этого репозитория",
    "Close a pull request without merging": "закрой этот пул-реквест, сливать не будем",
    "Delete a channel": "удали канал в слаке насовсем",
    "Cancel a meeting": "отмени завтрашнюю встречу",
    "Forward an email": "перешли это письмо моему руководителю",
    "Restore a database from a backup": "восстанови базу из вчерашней резервной копии",
    "Drop an unused index": "удали индекс, которым никто не пользуется",
    "Deploy to staging": "выложи мою ветку на тестовый стенд",
    "Void an invoice": "аннулируй счёт, отправленный по ошибке",
    "Close a support ticket": "закрой обращение клиента, проблема решена",
    "Extract an archive": "распакуй архив, который прислал клиент",
    "Revoke access to a document": "забери у Кэрол доступ к документу",
}

REQUESTS: tuple[Request, ...] = _requests()
