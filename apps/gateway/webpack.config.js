const { serviceWebpackConfig } = require('../../tools/webpack/service-webpack-config');

module.exports = serviceWebpackConfig(__dirname, {
  // OpenAPI schemas of the DTOs (class-validator rules, doc comments) at /docs, generated at build time.
  transformers: [
    {
      name: '@nestjs/swagger/plugin',
      options: { classValidatorShim: true, introspectComments: true },
    },
  ],
});
