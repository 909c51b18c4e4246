"""What the scheduler writes for people: the notes beside a dropped file, the overdue-report alert.

Written in Chinese (county data officers and the office read them); the English is for
developers and the parity check. Registered into the one text mechanism (`i18n`) on import.
"""

from i18n import register, tr

__all__ = ["EN", "ZH", "tr"]  # tr: importing it from here guarantees these strings are registered

ZH: dict[str, str] = {
    "sched_already_imported": "文件内容此前已导入（批次 {batch}，{at}），未重复导入。",
    "sched_bad_county_in_name": "文件名中的区划代码 {code} 不是有效的县（市、区）代码，请按“县级代码_期间”命名"
                                "（如 330102_2026-10.xlsx）。",
    "sched_overdue_report": "{county}（{code}）{period} 月报逾期未报（截止 {due}）",
}

EN: dict[str, str] = {
    "sched_already_imported": "The file's content was imported before (batch {batch}, {at}); not imported again.",
    "sched_bad_county_in_name": "The region code {code} in the file name is not a valid county code; name the file "
                                "<county code>_<period> (e.g. 330102_2026-10.xlsx).",
    "sched_overdue_report": "{county} ({code}): the {period} monthly report is overdue (due {due})",
}

register(__name__, ZH, EN)
