"""The floor: a bare Flask endpoint doing the SQL of a transition and nothing else.

One transaction: the conditional UPDATE of the project's version and status, and the INSERT
of an audit row — no sign-in, no access check, no guards, no hash, no template. Served by the
same gunicorn settings as the application, so the gap between the two is the framework and
the business rules. It writes behind the application's back: in the benchmark database the
projects it moved no longer agree with their hash chain or with the statistics rollup.
"""

import os
from datetime import UTC, datetime

from flask import Flask, jsonify, request
from sqlalchemy import create_engine, text

app = Flask(__name__)
engine = create_engine(os.environ["BARE_DATABASE_URL"], pool_size=4, max_overflow=0,
                       pool_pre_ping=False)

ADVANCE = text("UPDATE projects SET version = version + 1, status = :status, updated_at = :now "
               "WHERE id = :id AND version = :version RETURNING version")
AUDIT = text("INSERT INTO workflow_events (project_id, seq, \"trigger\", from_state, to_state, "
             "actor_id, actor_name, actor_role, actor_org_id, actor_org_name, data, created_at, "
             "prev_hash, hash) VALUES (:id, :seq, :trigger, :source, :status, 1, 'bench', "
             "'agency', 1, 'bench', '{}', :now, '', '')")
SWAP = {"declared": "returned", "returned": "declared"}


@app.post("/bare/<int:project_id>")
def transition(project_id: int):
    body = request.get_json()
    source = body["status"]
    values = {"id": project_id, "version": body["version"], "status": SWAP[source],
              "source": source, "trigger": "return" if source == "declared" else "submit",
              "now": datetime.now(UTC).replace(tzinfo=None)}
    with engine.begin() as connection:
        version = connection.execute(ADVANCE, values).scalar()
        if version is None:
            return jsonify(message="version moved"), 409
        connection.execute(AUDIT, {**values, "seq": version})
    return jsonify(version=version, status=values["status"])
