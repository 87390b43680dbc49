// aws-local-stepfunctions relies on Promise.withResolvers, which Node.js 20 lacks.
import '../../local/polyfills';
