import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { OPTION_LIMITS, type VariableOptionsService } from '../../app/variable-options.ts';
import { principalOf } from '../plugins/auth.ts';
import { IdParams } from '../schemas.ts';
import { ExecuteBody } from './executions.ts';

const OptionsBody = Type.Object(
  { inputs: ExecuteBody.properties.inputs, context: ExecuteBody.properties.context },
  { additionalProperties: false },
);

const OptionsView = Type.Object({
  options: Type.Array(Type.Object({ label: Type.String(), value: Type.String() }), {
    maxItems: OPTION_LIMITS.maxOptions,
  }),
  execution_id: Type.String({
    description: 'The execution of the options action, at GET /v1/executions/{id}',
  }),
});

export const variableOptionRoutes: FastifyPluginAsyncTypebox<{
  variableOptions: VariableOptionsService;
}> = async (app, { variableOptions }) => {
  app.post(
    '/actions/:id/variables/:name/options',
    {
      config: { scope: 'actions:execute' },
      schema: {
        operationId: 'listVariableOptions',
        tags: ['actions'],
        summary: "List a variable's options by running its options_from action",
        description:
          'Runs the action the variable’s `options_from` names, as an execution (recorded, rate-limited, secrets redacted), with the given `inputs` and `context`. ' +
          'Its output may be a list of strings, a list of `{label, value}`, or `{"options": [...]}` of either; ' +
          `at most ${OPTION_LIMITS.maxOptions} options, labels at most ${OPTION_LIMITS.maxLabelLength} characters. ` +
          '422 when the variable has no `options_from`, the options action fails, or its output has another shape.',
        params: Type.Object({
          ...IdParams.properties,
          name: Type.String({ minLength: 1, maxLength: 64, description: 'The variable’s name' }),
        }),
        body: OptionsBody,
        response: { 200: OptionsView },
      },
    },
    async (request) => {
      const result = await variableOptions.options(
        principalOf(request),
        request.params.id,
        request.params.name,
        {
          inputs: (request.body.inputs ?? {}) as Record<string, unknown>,
          context: (request.body.context ?? {}) as Record<string, unknown>,
        },
      );
      return { options: result.options, execution_id: result.executionId };
    },
  );
};
