import os

import boto3

audit = boto3.resource("dynamodb").Table(os.environ["AUDIT_TABLE"])


def handler(event, context):
    for record in event.get("Records", []):
        new = record["dynamodb"].get("NewImage", {})
        audit.put_item(Item={"eventId": record["eventID"], "name": record["eventName"], "orderId": new.get("id", {}).get("S", "")})
    return {"batchItemFailures": []}
