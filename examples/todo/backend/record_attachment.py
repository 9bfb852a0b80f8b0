"""S3 trigger: an attachment was uploaded (key userId/todoId/name); records its name, size
and type on the todo. boto3 reaches stratus through AWS_ENDPOINT_URL, as on AWS it reaches
AWS."""
import os
import urllib.parse

import boto3

s3 = boto3.client("s3")
todos = boto3.resource("dynamodb").Table(os.environ["TODOS_TABLE"])


def handler(event, context):
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        parts = key.split("/", 2)
        if len(parts) != 3:
            print("ignored", key)
            continue
        user_id, todo_id, name = parts
        head = s3.head_object(Bucket=bucket, Key=key)
        todos.update_item(
            Key={"userId": user_id, "id": todo_id},
            UpdateExpression="SET attachment = :a",
            ConditionExpression="attribute_exists(id)",
            ExpressionAttributeValues={":a": {
                "key": key, "name": name, "size": head["ContentLength"],
                "type": head.get("ContentType", "application/octet-stream"),
            }},
        )
        print("recorded", key, head["ContentLength"], "bytes")
