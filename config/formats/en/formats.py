# "Tuesday 8 December at 23:59", "8 December 2026 at 23:59" (a and t are format characters: escaped)
WEEKDAY_AT_TIME_FORMAT = r"l j F \a\t H:i"
DATE_AT_TIME_FORMAT = r"j F Y \a\t H:i"
