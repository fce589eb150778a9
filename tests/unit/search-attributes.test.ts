/** The search attributes' one source (temporal-config/search-attributes.json) and the typed keys the workflow upserts. */
import { SearchAttributeType } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { SA } from '../../contracts/index.js';
import { searchAttributes } from '../../lib/temporal-setup.js';

const TYPE_NAMES: Record<string, string> = {
  [SearchAttributeType.TEXT]: 'Text',
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.DOUBLE]: 'Double',
  [SearchAttributeType.BOOL]: 'Bool',
  [SearchAttributeType.DATETIME]: 'Datetime',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
};

describe('search attributes', () => {
  it('are the contract five, and the typed keys have exactly the names and types of the JSON file', () => {
    expect(Object.keys(searchAttributes()).sort()).toEqual(
      ['CustomerId', 'OrderId', 'OrderStatus', 'OrderTotalCents', 'SagaStep'].sort(),
    );
    const typed = Object.fromEntries(Object.values(SA).map((k) => [k.name, TYPE_NAMES[k.type]]));
    expect(typed).toEqual(searchAttributes());
  });
});
