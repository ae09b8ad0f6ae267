# « mardi 8 décembre à 23:59 », « 8 décembre 2026 à 23:59 »
WEEKDAY_AT_TIME_FORMAT = "l j F à H:i"
DATE_AT_TIME_FORMAT = "j F Y à H:i"
