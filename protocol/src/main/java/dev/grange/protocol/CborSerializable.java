package dev.grange.protocol;

/**
 * Marker for every message, event and state record that crosses a node boundary or is persisted:
 * the cluster binds it to Pekko's jackson-cbor serializer. Records that carry it must stay
 * readable after a change (rename a persisted class only with a Jackson migration).
 */
public interface CborSerializable {}
