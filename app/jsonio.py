"""JSON in and out: Decimal amounts as strings, dates ISO, UUIDs as strings, Chinese as is."""

import uuid
from datetime import date, datetime
from decimal import Decimal

from flask.json.provider import DefaultJSONProvider


class JigaiJSONProvider(DefaultJSONProvider):
    ensure_ascii = False
    sort_keys = False

    @staticmethod
    def default(o):
        if isinstance(o, Decimal):
            return str(o)
        if isinstance(o, datetime | date):
            return o.isoformat()
        if isinstance(o, uuid.UUID):
            return str(o)
        return DefaultJSONProvider.default(o)
