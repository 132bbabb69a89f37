/// Checks the payload of an event type a handler module adds (``Handler/payloadValidators``):
/// reads it with the ``FieldReader`` and throws the contract's ``Rejection``, with a specific
/// detail, for a payload it refuses. The host runs it before the event is journaled.
public typealias PayloadValidator = @Sendable (FieldReader) throws(Rejection) -> Void
