/**
 * A wire-exact netlink codec: message framing with precise errors, attribute iterators with typed getters,
 * a writer that builds messages as the kernel's `nlmsg_put`/`nla_put*` do, and a lossless raw attribute tree,
 * all checked byte for byte against captures of a real Linux kernel.
 *
 * @packageDocumentation
 */

export {
  type AckInit,
  type AttrPathStep,
  attrPathAt,
  buildAck,
  decodeAck,
  decodeDone,
  type ExtAck,
  NLMSGERR_ATTR,
  type NlAck,
  type NlDone,
} from "./ack.js";
export {
  NLA_ALIGN,
  NLA_ALIGNTO,
  NLA_HDRLEN,
  NLMSG_ALIGN,
  NLMSG_ALIGNTO,
  NLMSG_HDRLEN,
  NLMSG_LENGTH,
  NLMSG_OK,
  NLMSG_PAYLOAD,
  NLMSG_SPACE,
  nla_attr_size,
  nla_padlen,
  nla_total_size,
  nlmsg_msg_size,
  nlmsg_padlen,
  nlmsg_total_size,
} from "./align.js";
export { type AnnotateOptions, type Annotation, annotate, hexdump } from "./annotate.js";
export { AttrCursor, MsgCursor } from "./cursor.js";
export { type DumpOptions, DumpReader, readDump, readDumpAsync } from "./dump.js";
export { NetlinkParseError } from "./errors.js";
export {
  NLCTRL_SPEC,
  nlctrlFamily,
  RT_ADDR_SPEC,
  RT_LINK_SPEC,
  RT_NEIGH_SPEC,
  RT_ROUTE_SPEC,
  rtAddrFamily,
  rtLinkFamily,
  rtNeighFamily,
  rtRouteFamily,
} from "./families/index.js";
export * from "./families/types.js";
export {
  type AttrOptions,
  type Bitfield32,
  NLA_F_NESTED,
  NLA_F_NET_BYTEORDER,
  NLA_TYPE_MASK,
  type NlAttr,
  nlaGetBe16,
  nlaGetBe32,
  nlaGetBe64,
  nlaGetBinary,
  nlaGetBitfield32,
  nlaGetFlag,
  nlaGetIn6Addr,
  nlaGetInAddr,
  nlaGetLladdr,
  nlaGetS8,
  nlaGetS16,
  nlaGetS32,
  nlaGetS64,
  nlaGetSint,
  nlaGetString,
  nlaGetU8,
  nlaGetU16,
  nlaGetU32,
  nlaGetU64,
  nlaGetUint,
  parseAttrs,
} from "./nlattr.js";
export {
  type FlagContext,
  familyHeaderLength,
  type HeaderOptions,
  NLM_F,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_MIN_TYPE,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  type NlMessage,
  type NlMsgHdr,
  type NlMsgHdrInit,
  nlmsgFlagNames,
  parseDatagram,
  readNlmsghdr,
  writeNlmsghdr,
} from "./nlmsg.js";
export {
  ARPHRD_NETLINK,
  LINKTYPE_NETLINK,
  PACKET_HOST,
  PACKET_OUTGOING,
  type Pcap,
  type PcapRecord,
  type PcapRecordInit,
  readPcap,
  writePcap,
} from "./pcap.js";
export {
  type ExtAckOut,
  MAX_POLICY_RECURSION_DEPTH,
  NL_POLICY_TYPE_ATTR,
  NL_VALIDATE,
  type NlaPolicy,
  type NlaType,
  type NlaValidation,
  nlaParse,
  nlaTypeId,
  nlmsgParse,
  type ParseResult,
  type Policy,
  type PolicyDumpEntry,
  type PolicyParseOptions,
  policyAttrs,
  policyDump,
} from "./policy.js";
export {
  decodeRawAttrs,
  decodeRawMessages,
  encodeRawAttrs,
  encodeRawMessages,
  type RawAttr,
  type RawMessage,
} from "./rawtree.js";
export {
  EMSGSIZE,
  nlaNestCancel,
  nlaNestEnd,
  nlaNestStart,
  nlaPut,
  nlaPutFlag,
  nlaPutString,
  nlaPutU8,
  nlaPutU16,
  nlaPutU32,
  nlmsgAppend,
  nlmsgEnd,
  nlmsgLen,
  nlmsgNew,
  nlmsgPut,
  nlmsgTrim,
} from "./skb-netlink.js";
export { SKB_SIZES_X86_64, SkBuff, SkbHeadCache, type SkbSizes } from "./skbuff.js";
export { type MessageInit, type Nest, NLA_MAX_PAYLOAD, NlWriter } from "./writer.js";
export {
  attrsToObject,
  type FamilyAttr,
  type FamilyMessage,
  type FamilyMessageInit,
  NetlinkFamily,
} from "./ynl/family.js";
export {
  loadSpec,
  type YnlAttr,
  type YnlAttrSet,
  type YnlAttrType,
  type YnlFamily,
  type YnlOperation,
  type YnlStruct,
  type YnlSubMessage,
} from "./ynl/spec.js";
