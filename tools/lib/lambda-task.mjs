// How Step Functions invokes a Lambda Task Resource, for aws-local-stepfunctions' per-state override.
//
// The engine's own invocation differs from the service in what the workflow depends on: its SDK
// client retries a throttle three times before the state sees it, and it names an Invoke API error
// by the SDK's exception name (TooManyRequestsException) where Step Functions reports
// Lambda.TooManyRequestsException ("Handle Lambda service exceptions", Step Functions developer
// guide). With this override a Retry or Catch sees what it would see in AWS:
//   - the function threw: Error = its errorType, Cause = the error payload as JSON text;
//   - the Invoke call failed (429 throttle, 5xx): Error = Lambda.<error code>, one attempt each.
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";

/** A Task-state error as Step Functions reports it (the engine matches Retry/Catch on `name`). */
export class TaskError extends Error {
    constructor(name, cause) {
        super(cause);
        this.name = name;
    }
}

/** Every Task state of a definition, Parallel branches and Map processors included, by name. */
export function taskStates(definition) {
    const found = {};
    const visit = (machine) => {
        for (const [name, state] of Object.entries(machine.States ?? {})) {
            if (state.Type === "Task") found[name] = state;
            for (const branch of state.Branches ?? []) visit(branch);
            const processor = state.ItemProcessor ?? state.Iterator;
            if (processor) visit(processor);
        }
    };
    visit(definition);
    return found;
}

/** The error a failed Invoke call becomes in a Task state. */
export function serviceError(error) {
    const code = error?.name && error.name !== "Error" ? error.name : "AWSLambdaException";
    const status = error?.$metadata?.httpStatusCode;
    const cause = `${error?.message ?? code} (Service: Lambda, Status Code: ${status ?? "none"}, Request ID: ${error?.$metadata?.requestId ?? "none"})`;
    return new TaskError(`Lambda.${code}`, cause);
}

/** The error a function error payload ({"errorType","errorMessage",...}) becomes in a Task state. */
export function functionError(payloadText) {
    let errorType = "Lambda.Unknown";
    try {
        const payload = JSON.parse(payloadText);
        if (typeof payload?.errorType === "string" && payload.errorType !== "") errorType = payload.errorType;
    } catch {
        // A payload that is not JSON (a crashed runtime) is what Step Functions calls Lambda.Unknown.
    }
    return new TaskError(errorType, payloadText);
}

/** Overrides for aws-local-stepfunctions' `taskResourceLocalHandlers`: each Task state invokes its Resource. */
export function lambdaTaskHandlers(definition, { region, endpoint }) {
    const client = new LambdaClient({
        region,
        endpoint,
        maxAttempts: 1,
        credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    const handlers = {};
    for (const [name, state] of Object.entries(taskStates(definition))) {
        if (!/^arn:[^:]+:lambda:/.test(state.Resource)) continue; // other integrations stay with the engine
        handlers[name] = async (input) => {
            let response;
            try {
                response = await client.send(new InvokeCommand({ FunctionName: state.Resource, Payload: new TextEncoder().encode(JSON.stringify(input)) }));
            } catch (error) {
                throw serviceError(error);
            }
            const text = response.Payload ? new TextDecoder().decode(response.Payload) : "null";
            if (response.FunctionError) throw functionError(text);
            return JSON.parse(text);
        };
    }
    return handlers;
}
