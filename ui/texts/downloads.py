"""Strings of the download buttons."""

ZH: dict[str, str] = {
    "dl_csv": "下载 CSV",
    "dl_xlsx": "下载 Excel",
    "dl_help": "图表背后的数据（含口径字段），{name}",
}

EN: dict[str, str] = {
    "dl_csv": "Download CSV",
    "dl_xlsx": "Download Excel",
    "dl_help": "The numbers behind this view, {name}",
}
