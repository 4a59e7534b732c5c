// The shapes of posts as the API gives them (`PostView`, `CommentView`, `PhotoView`).

/** A photo of a post. */
export type PhotoView = { hash: string; size: number; mime: string; local: boolean };

/** A comment on a post. */
export type CommentView = {
  id: string;
  post: string;
  author: string;
  author_handle?: string | null;
  text: string;
  created_at: number;
};

/** A post with what the node knows of its likes and comments. */
export type PostView = {
  id: string;
  author: string;
  author_handle?: string | null;
  seq: number;
  created_at: number;
  caption: string;
  photos: PhotoView[];
  liked_by: string[];
  liked_by_me: boolean;
  comments: CommentView[];
};
