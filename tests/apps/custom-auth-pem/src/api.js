'use strict';
module.exports.private = async (event) => ({
  statusCode: 200,
  body: JSON.stringify({ principal: event.requestContext.authorizer.principalId, role: event.requestContext.authorizer.role }),
});
module.exports.public = async () => ({ statusCode: 200, body: JSON.stringify({ public: true }) });
