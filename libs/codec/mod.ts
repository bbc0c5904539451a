// The public face of libs/codec: MessagePack encoding and the decode boundary.

export type { DecodeResult, ValueDecodeResult } from './codec.js';
export { encodeEvent, decodeEvent, encodeValue, decodeValue } from './codec.js';
