import json
import os


def handler(event, context):
    params = event.get("pathParameters") or {}
    return {"statusCode": 200, "body": json.dumps({"orderId": params.get("orderId"), "table": os.environ["TABLE"],
                                                  "principal": (event.get("requestContext", {}).get("authorizer") or {}).get("principalId")})}
