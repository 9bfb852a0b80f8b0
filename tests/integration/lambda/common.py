"""What the Lambda test files share: deployment packages made in memory, unique names."""

import io
import uuid
import zipfile

ROLE = "arn:aws:iam::000000000000:role/r"


def zip_of(files):
    """A zip of {name: text}."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buf.getvalue()


def fname(prefix="f"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])
