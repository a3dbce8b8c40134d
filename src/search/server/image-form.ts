// A multipart/form-data body that carries one image (the file field "image") and named text fields, as a
// search by image and a put of an item send it: anything else is a 400 naming the field.
import type { FastifyRequest } from 'fastify';
import { excerpt } from '../../util/excerpt.js';
import { badRequest } from './http-error.js';

/** `per` names what the image is for in the error about a second one ("one image per item"). */
export async function readImageForm(
  req: FastifyRequest,
  allowed: readonly string[],
  per: 'item' | 'search',
): Promise<{ bytes: Buffer; fields: Record<string, string> }> {
  const fields: Record<string, string> = {};
  let bytes: Buffer | null = null;
  for await (const part of req.parts()) {
    if (part.type === 'file') {
      if (part.fieldname !== 'image')
        throw badRequest(`unexpected file field ${excerpt(part.fieldname)}: send the image as "image"`);
      if (bytes !== null) throw badRequest(`one image per ${per}`);
      bytes = await part.toBuffer();
    } else {
      if (!allowed.includes(part.fieldname)) {
        throw badRequest(`unknown field ${excerpt(part.fieldname)}: expected image, and ${allowed.join(', ')}`);
      }
      fields[part.fieldname] = String(part.value);
    }
  }
  if (bytes === null) throw badRequest('field "image": expected an image file (multipart/form-data)');
  return { bytes, fields };
}
