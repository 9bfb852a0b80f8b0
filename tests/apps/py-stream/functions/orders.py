import os

import boto3

table = boto3.resource("dynamodb").Table(os.environ["ORDERS_TABLE"])


def put(event, context):
    table.put_item(Item={"id": event["id"], "status": event.get("status", "new")})
    return {"ok": True}
