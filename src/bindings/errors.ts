// Runs in: the embedding process. The one shape of a capability call's failure as the guest will see
// it: an error class name (BindingError, ValidationError, TimeoutError, …) and a message, nothing else
// (threat: host stacks, paths or objects reaching the guest inside an exception). Whatever throws
// this, the CallDispatcher answers the call with exactly its name and message.
export class GuestFacingError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}
