def handler(event, context):
    token = event.get("authorizationToken", "")
    effect = "Allow" if token == "Bearer letmein" else "Deny"
    if token == "":
        raise Exception("Unauthorized")
    return {"principalId": "user-1", "policyDocument": {"Version": "2012-10-17", "Statement": [
        {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}]}}
