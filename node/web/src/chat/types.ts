// The API's shapes the messaging pages read (see `GET /v1/openapi.json`). Nullable fields the
// daemon may leave out are optional here.
import type { PhotoView } from "../feed/types";

/** A peer id (`12D3KooW…`). */
export type PeerId = string;

/** Where a message stands: ours go pending → stored/delivered → seen (or failed). */
export type MessageState = "pending" | "stored" | "delivered" | "seen" | "failed" | "received";

/** One emoji's reactions on a message. */
export interface ReactionView {
  emoji: string;
  count: number;
  by: PeerId[];
}

/** What a reply quotes. */
export interface QuoteView {
  id: string;
  author: PeerId;
  excerpt: string;
}


/** The photo of a chat message. */
export interface ChatPhotoView extends PhotoView {
  state: "fetching" | "ready" | "failed";
  error?: string | null;
}

/** A post shared into a chat. */
export interface SharedPostView {
  id: string;
  author: PeerId;
  created_at: number;
  caption: string;
  photos: PhotoView[];
  verified: boolean;
}

/** A message as shown (direct or group). */
export interface MessageView {
  id: string;
  peer: PeerId;
  from: PeerId;
  to: PeerId;
  outgoing: boolean;
  kind: "text" | "reply" | "shared_post" | "photo" | "change" | "unsent" | "unsupported";
  text: string;
  emoji_only: boolean;
  reactions: ReactionView[];
  sent_at: number;
  stored_at: number;
  state: MessageState;
  error?: string | null;
  edited_at?: number | null;
  group?: string | null;
  photo?: ChatPhotoView | null;
  reply_to?: QuoteView | null;
  seen_at?: number | null;
  seen_by?: PeerId[];
  shared_post?: SharedPostView | null;
}

/** A conversation in the inbox or among the requests (a 1:1 chat or a group). */
export interface ChatView {
  peer: PeerId;
  handle?: string | null;
  display_name?: string | null;
  folder: "inbox" | "requests";
  last_activity: number;
  unread: number;
  last_message?: MessageView | null;
  first_message?: MessageView | null;
  group?: { id: string; name: string; members: number } | null;
  muted?: boolean;
}

/** One member of a group. */
export interface GroupMemberView {
  peer: PeerId;
  handle?: string | null;
  admin: boolean;
}

/** A group as shown. */
export interface GroupView {
  id: string;
  name: string;
  members: GroupMemberView[];
  version: number;
  epoch: number;
  status: "member" | "left" | "removed";
  folder: "inbox" | "requests";
  unread: number;
  last_activity: number;
  last_change: string;
}
